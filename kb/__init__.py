"""kb: the application — settings, database, the KnowledgeBase object, access rules and the command line."""
