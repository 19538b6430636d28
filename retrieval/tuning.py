"""Every threshold and weight of retrieval, with the data set and split it was chosen on.

Tuning rule: values are chosen on SciFact's *train* split and on the development knowledge bases
(the demo telecom in demo/, the insurer in eval/dev-versicherung/), never on SciFact test qrels or
a held-out set, whose figures are only reported. Any value can be overridden from settings, e.g.
`VERITY_TUNING = {"FLAG_THRESHOLD": 0.3}` (read once, at import). The fusion weight of hybrid
search and of answers is one weight per embedder (`Embedder.fusion_weight`, see
retrieval.index.embeddings), applied by `retrieval.search.fusion.semantic_weight` for /search,
/answer and change impact alike; VERITY_SEMANTIC_WEIGHT overrides it.

The modules of `retrieval.text` are pure Python and take their one tuned value
(SECONDARY_LANGUAGE_WEIGHT) as a parameter from their callers.
"""

from __future__ import annotations

from django.conf import settings


def _tuned(name: str, value: float) -> float:
    """`value`, or the override in settings.VERITY_TUNING, of the same type."""
    overrides = getattr(settings, "VERITY_TUNING", None) or {}
    return type(value)(overrides.get(name, value))


# --- Search (retrieval.search): BM25, candidates, fusion, HNSW --------------------------------

# BM25 k1 and b: Lucene's defaults; grids on SciFact train did not beat them (README). CANDIDATES per
# retriever: enough for Recall@100 on SciFact test and for evidence selection; not tuned.
K1 = _tuned("K1", 1.2)
B = _tuned("B", 0.75)
CANDIDATES = _tuned("CANDIDATES", 100)
# keyword search at scale (see _KEYWORD_SQL): a term in more than COMMON_TERM_FRACTION of the
# chunks (and more than COMMON_TERM_MIN_DF) is "common"; its score is added for the best
# CANDIDATE_POOL chunks of the other terms. On SciFact train the pruning cost nothing at 10% and
# -0.0001 nDCG@10 at 5% (an upper bound on the loss: there every chunk with a selective term kept
# its full score). The best PRESELECT chunks are joined with their articles before the filters.
COMMON_TERM_FRACTION = _tuned("COMMON_TERM_FRACTION", 0.05)
COMMON_TERM_MIN_DF = _tuned("COMMON_TERM_MIN_DF", 2000)
CANDIDATE_POOL = _tuned("CANDIDATE_POOL", 1500)
PRESELECT = _tuned("PRESELECT", 1000)
# fused = (1 - w) * keyword + w * semantic, both normalised to [0, 1]. w is the one tuned for the
# active embedder (its `fusion_weight`); this value only for an embedder without one.
# VERITY_SEMANTIC_WEIGHT (environment/settings) overrides both.
SEMANTIC_WEIGHT = _tuned("SEMANTIC_WEIGHT", 0.5)
# HNSW candidate list: top-10 recall against exact search on the 100k-chunk synthetic index of
# `bench --scale` (SciFact claims as queries) was 0.85 at 100, 0.94 at 200, 0.98 at 400, for
# about 7 ms per query at 400. On a few thousand vectors PostgreSQL's planner reads them all instead (exact;
# SciFact test, 5,681 chunks: 15 ms against 3.4 ms for HNSW at 200 with recall@100 0.993; bench.retrieval
# --latency-parts says which scan ran).
EF_SEARCH = _tuned("EF_SEARCH", 400)
# Weight of query terms that only another language's analysis produces (a German query meeting
# English stems, and the reverse). Tuned on SciFact's *train* split and checked on the demo set
# (never on test qrels): at full weight these terms cost 0.025 nDCG@10 on English claims (the
# German stemmer and compound splitter applied to English words invent terms); at 0.3 the loss is
# gone while a word that only the other language's analysis can match still counts.
SECONDARY_LANGUAGE_WEIGHT = _tuned("SECONDARY_LANGUAGE_WEIGHT", 0.3)


# --- Chunking (retrieval.index.chunking) ------------------------------------------------------

# Chunk size: tuned on SciFact's *train* split and checked on the demo set (never on test
# qrels): 300 words kept hybrid nDCG@10 at least as high as 180 or 450 (0.716 vs 0.711 / 0.714
# with USE) with a third fewer chunks, so indexing and keyword search do less work. A typical
# help-center section stays one chunk; multilingual-e5 reads up to 512 tokens (~300 words).
MAX_WORDS = _tuned("MAX_WORDS", 300)
MIN_WORDS = _tuned("MIN_WORDS", 40)


# --- Answers (retrieval.answers): evidence selection, confidence, verification, insights ------

# Candidates, passage counts and scoring weights: set by reading answers on the demo set (dev) and
# checked on the insurer (dev); never on a held-out set.
MAX_CHUNKS = _tuned("MAX_CHUNKS", 8)
SIBLING_ARTICLES = _tuned("SIBLING_ARTICLES", 2)  # the best articles also bring their other chunks
MAX_PASSAGES = _tuned("MAX_PASSAGES", 6)
MAX_LIST_ITEMS = _tuned("MAX_LIST_ITEMS", 6)  # of a list or table an answer passage introduces
# Confidence: an answer to a question asking for an amount, a time, a count or steps must state
# one; and the answer's best passage must support the question, measured absolutely as the mean
# of its idf-weighted coverage of the question's content words and its cosine similarity to the
# question. When keyword and semantic retrieval agree on the topic (the keyword top hit is among
# the semantic top three translation groups) a modest support suffices; alone, it must be clear.
# Demo set: with agreement, unanswerable questions reach 0.19 (plus two near-misses, an expired
# offer at 0.27 and a country no article names at 0.46), answerable ones start at 0.25; without
# agreement the unanswerable reach 0.35, the answerable mostly start at 0.42.
MIN_SUPPORT_AGREEING = _tuned("MIN_SUPPORT_AGREEING", 0.22)
MIN_SUPPORT_ALONE = _tuned("MIN_SUPPORT_ALONE", 0.40)
# Where the retrievers disagree, the answer's article still shows that it is on the question's topic
# when it states most of the question's content (idf-weighted, title and headings included). Demo
# set: the articles unanswerable questions land on cover at most 0.49 of them; those answerable
# ones land on mostly 0.5 to 1.
MIN_ARTICLE_COVERAGE = _tuned("MIN_ARTICLE_COVERAGE", 0.55)
ASIDE_WEIGHT = _tuned("ASIDE_WEIGHT", 0.5)  # a term only in the sentences around the question ("I ordered a phone online. ...?")
W_SEMANTIC = _tuned("W_SEMANTIC", 0.4)
W_COVERAGE = _tuned("W_COVERAGE", 0.3)
W_CHUNK_COVERAGE = _tuned("W_CHUNK_COVERAGE", 0.1)
W_PRIOR = _tuned("W_PRIOR", 0.2)
KIND_BONUS = _tuned("KIND_BONUS", 0.12)  # a passage stating the asked kind of fact
KIND_MALUS = _tuned("KIND_MALUS", 0.08)  # a passage stating none of the asked kinds
SECTION_KIND_BONUS = _tuned("SECTION_KIND_BONUS", 0.06)  # ... in a section named for it ("Frist", "Preise")
FILL_RATIO = _tuned("FILL_RATIO", 0.7)  # a passage added for a missing asked kind scores at least this share of the best
CLOSE_IN_CHUNK = _tuned("CLOSE_IN_CHUNK", 0.8)  # runners-up: share of the best passage's score
CLOSE_IN_ARTICLE = _tuned("CLOSE_IN_ARTICLE", 0.85)
MIN_SECTION_NAMED = _tuned("MIN_SECTION_NAMED", 0.5)  # share of a section heading's terms a passage must state to name that section
# Verification: share of an answer sentence's content words its cited passage must state (demo set).
SUPPORT_THRESHOLD = _tuned("SUPPORT_THRESHOLD", 0.6)
# Insights: knowledge gaps grouped by question similarity (read on demo questions; not a quality figure).
SAME_TOPIC = _tuned("SAME_TOPIC", 0.55)  # cosine similarity above which two questions count as one topic
# Past tickets (retrieval.answers.ticket_simulation), read on demo/tickets.jsonl (dev, extractive answers, USE);
# not a quality figure. An answer agrees with the agent's reply when it contradicts none of the reply's facts
# (numbers, amounts, durations, dates, menu paths) and states at least TICKET_FACTS_STATED of them; there the
# 3-sentence answers stated 1/2 to 4/4 of the facts of replies on the same topic and 0/3 of a reply on a neighbouring
# one (upgrade answered, downgrade asked). A reply without facts agrees when the two texts are at least
# TICKET_AGREEMENT close (cosine, active embedder): answers on the reply's topic were at 0.55-0.82, answers
# from a neighbouring article (router set-up for a fibre-availability question) at 0.35-0.50.
TICKET_FACTS_STATED = _tuned("TICKET_FACTS_STATED", 0.5)
TICKET_AGREEMENT = _tuned("TICKET_AGREEMENT", 0.6)
# Ticket gaps group tickets (subject, first question and the agent's reply) at this cosine. On the demo's ten gap
# tickets (extractive answers, USE) the pairs on one topic (fibre availability; TV packages; a stolen SIM and an
# eSIM moved to a new phone) were at 0.65-0.68, all other pairs at most 0.48; the question alone put two same-topic
# pairs at 0.51-0.59 and an unrelated pair (a plan downgrade, roaming in Turkey: both say "Tarif") at 0.58.
TICKET_SAME_TOPIC = _tuned("TICKET_SAME_TOPIC", 0.6)


# --- Change impact (retrieval.impact.assessment) ----------------------------------------------

# Chosen on demo/changes.jsonl (dev), each in a plateau (FLAG_THRESHOLD 0.25-0.31 give identical
# results), and checked on eval/dev-versicherung (dev). Match score = LEXICAL * passage overlap +
# NEAR * overlap of the words at the two numbers + COSINE * sentence-vector cosine.
CHUNKS_PER_QUERY = _tuned("CHUNKS_PER_QUERY", 40)
LEXICAL_WEIGHT = _tuned("LEXICAL_WEIGHT", 0.25)
NEAR_WEIGHT = _tuned("NEAR_WEIGHT", 0.25)
COSINE_WEIGHT = _tuned("COSINE_WEIGHT", 0.5)
SHARED_IDENTIFIER_BONUS = _tuned("SHARED_IDENTIFIER_BONUS", 0.1)
VALUE_DISTANCE_WEIGHT = _tuned("VALUE_DISTANCE_WEIGHT", 0.03)
FLAG_THRESHOLD = _tuned("FLAG_THRESHOLD", 0.28)  # a fact match at least this good, with a different value, makes a passage wrong
# Change impact by reading (retrieval.impact.reading): articles per query, each with its best section
# (the announcement as a whole gets twice as many), at most MAX_JUDGED judged per announcement (each one model call: the cost on a
# CPU), and the judge's P("ja") from which a section counts as made wrong. Chosen on the development
# change sets (demo, insurer): see the README's change-impact figures.
IMPACT_SECTIONS_PER_QUERY = _tuned("IMPACT_SECTIONS_PER_QUERY", 4)
MAX_JUDGED = _tuned("MAX_JUDGED", 10)
IMPACT_JUDGE_MIN = _tuned("IMPACT_JUDGE_MIN", 0.5)
# a contradiction the fact comparison found stands when the model judges it one with at least this P("ja")
CONTRADICTION_JUDGE_MIN = _tuned("CONTRADICTION_JUDGE_MIN", 0.5)
# what a change ends (retrieval.impact.ended): a passage holding at least this share of an ending clause's
# content (idf-weighted) and this close in sentence vectors still describes what the clause ends
ENDED_COVERAGE = _tuned("ENDED_COVERAGE", 0.4)
ENDED_COSINE = _tuned("ENDED_COSINE", 0.4)
# ... and share at least this many of the clause's words (one compound's parts count as one word)
ENDED_MIN_WORDS = _tuned("ENDED_MIN_WORDS", 2)
STRONG_MATCH = _tuned("STRONG_MATCH", 0.45)  # a match this good identifies the old value of a changed fact
RESTATED_OLD_VALUE = _tuned("RESTATED_OLD_VALUE", 0.2)  # a passage repeating that old value, about the same thing nearby, is wrong from here on
MIN_NEAR_SHARED = _tuned("MIN_NEAR_SHARED", 2)  # "about the same thing nearby": the two numbers stand next to at least two same words
AGREEMENT_MARGIN = _tuned("AGREEMENT_MARGIN", 0.1)  # a statement of the same value about nearly as close a subject: consistent
OTHER_VALUE_MARGIN = _tuned("OTHER_VALUE_MARGIN", 0.03)  # a third value (neither new nor the old one) must match nearly as well as the old one
PATH_SCORE = _tuned("PATH_SCORE", 0.9)


# --- Contradictions (retrieval.impact.contradictions) -----------------------------------------

NEIGHBOUR_CHUNKS = _tuned("NEIGHBOUR_CHUNKS", 8)  # nearest chunks of other articles per chunk: where a contradicting passage would be
# A contradiction must be about the same thing beyond doubt, far stricter than a change's FLAG_THRESHOLD:
# parallel facts of neighbouring subjects (the activation time of an eSIM and of a SIM card) look alike.
# Both chosen by reading what the scan finds on the demo knowledge base with three planted contradictions
# (copy-edited sentences): below 0.55 the pairs found were all parallel facts, not contradictions.
CONTRADICTION_THRESHOLD = _tuned("CONTRADICTION_THRESHOLD", 0.55)
MIN_HEAD_COVERAGE = _tuned("MIN_HEAD_COVERAGE", 0.5)  # the words right at the two numbers (what they measure) cover each other this much
CONTRADICTION_AGREEMENT_MARGIN = _tuned("CONTRADICTION_AGREEMENT_MARGIN", 0.1)  # the other article states this value about nearly as close a subject: consistent


# --- Answers with the language model (retrieval.answers.model, .verification, .cache) --------

# The model reads at most MAX_SOURCES sections (prompt tokens are the cost on a CPU: about 250 each)
# and an answer has at most MAX_ANSWER_SENTENCES sentences (issue #13: 1-3 sentences); not tuned.
MAX_SOURCES = _tuned("MAX_SOURCES", 3)
MAX_ANSWER_SENTENCES = _tuned("MAX_ANSWER_SENTENCES", 3)
# Below JUDGE_MIN (the model's probability of "ja"/"yes" that the passages answer the question) a
# question is refused. Chosen on the demo and insurer development sets (README, "Answers measured").
JUDGE_MIN = _tuned("JUDGE_MIN", 0.5)
# A table row of an answer is read by the model when its probability that the row answers the question
# is at least ROW_JUDGE_MIN (as JUDGE_MIN; not tuned); of several rows, those within ROW_MARGIN of the
# surest stay (chosen on a probe of three demo and insurer tables: the right row led its neighbour by
# 0.07 and 0.18, and trailed by 0.04 in the third, where both stay; not tuned on a set).
ROW_JUDGE_MIN = _tuned("ROW_JUDGE_MIN", 0.5)
ROW_MARGIN = _tuned("ROW_MARGIN", 0.05)
# A written sentence restates the source sentence closest to it in terms (Jaccard); below
# MIN_RESTATED_CLOSENESS it restates none and is dropped, below MIN_QUOTED_CLOSENESS it is too far
# from its source sentence for that sentence to be quoted in its place. A number of an answer
# sentence must stand in a source sentence at least NUMBER_HOLDER_CLOSENESS as close as the closest
# one (the neighbouring sentence's amount). Set by reading the model's sentences on the demo set
# (dev); not swept.
MIN_RESTATED_CLOSENESS = _tuned("MIN_RESTATED_CLOSENESS", 0.15)
MIN_QUOTED_CLOSENESS = _tuned("MIN_QUOTED_CLOSENESS", 0.3)
NUMBER_HOLDER_CLOSENESS = _tuned("NUMBER_HOLDER_CLOSENESS", 0.75)
# A model-written reply is served again for the same question over the same passages for this long.
ANSWER_CACHE_HOURS = _tuned("ANSWER_CACHE_HOURS", 24)

# --- Translations drafted by the model (retrieval.translation) ---------------------------------

# A section of at most TRANSLATION_SECTION_CHARS characters is translated in one call (about 350
# prompt tokens: the small model keeps a short text complete; longer ones it shortens). The score
# is TRANSLATION_AGREEMENT_WEIGHT x back-translation agreement (chrF, 0-100) + the rest x the share
# of numbers, amounts, dates, menu paths and glossary terms kept. Chosen, not tuned: survival weighs
# more because a dropped amount is what makes a translation wrong, and chrF of a faithful
# back-translation by a small model stays around 60-80 (a paraphrase, not an error).
TRANSLATION_SECTION_CHARS = _tuned("TRANSLATION_SECTION_CHARS", 1200)
TRANSLATION_AGREEMENT_WEIGHT = _tuned("TRANSLATION_AGREEMENT_WEIGHT", 0.4)
