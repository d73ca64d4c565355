"""Persistence: the SQLite file, its migrations, and one typed repository per capability.

SQL and the database driver live only here. Imports no other project package; any package may
import it, and asks it for units of work (a transaction, a mail batch, an import) by name.
"""
