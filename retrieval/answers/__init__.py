"""Cited answers: the pipeline of typed stages, evidence, generation, verification, guardrails, records."""
