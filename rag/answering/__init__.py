"""Answering: follow-up rewrite -> evidence sentences -> extractive or LLM answer -> citations."""
