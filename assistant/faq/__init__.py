"""FAQ of the Area Clienti: match a question to one of the guide's 13 answers, or to none.

Pure matching (no store, no channel): the chat's FAQ flow, the mailbox and ``staff`` import it.

matcher = FaqMatcher.load()                  # once per process (about 1-2 s), offline
match = matcher.match("ho perso la password")  # milliseconds
reply = faq_reply(texts, settings, match)    # text and (faq_id, title) choices
"""

from __future__ import annotations

from assistant.faq.matcher import FAQ_IDS, FaqMatch, FaqMatcher
from assistant.faq.replies import FaqReply, faq_answer, faq_reply, faq_title

__all__ = ["FAQ_IDS", "FaqMatch", "FaqMatcher", "FaqReply", "faq_answer", "faq_reply", "faq_title"]
