"""Text analysis for keyword search: tokens, stop words, Snowball stems, German compounds.

German words are folded (ä→a, ae→a, ß→ss, ...) so that "Rückgabe", "Ruckgabe" and "Rueckgabe"
meet, and compounds are split with a splitter trained on general German text (compound-split),
so "Rücksendeetikett" is also found by "Etikett". Numbers stay whole ("14", "9,95").
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

import Stemmer

# Snowball's stop-word lists (general language knowledge), abridged to the frequent words.
STOP_WORDS = {
    "de": set(
        "aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes anderm andern "
        "anderr anders auch auf aus bei bin bis bist da damit dann der den des dem die das dass daß derselbe derselben "
        "denselben desselben demselben dieselbe dieselben dasselbe dazu dein deine deinem deinen deiner deines denn "
        "derer dessen dich dir du dies diese diesem diesen dieser dieses doch dort durch ein eine einem einen einer "
        "eines einig einige einigem einigen einiger einiges einmal er ihn ihm es etwas euer eure eurem euren eurer "
        "eures für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich mich mir ihr ihre ihrem ihren "
        "ihrer ihres euch im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes jetzt kann "
        "kein keine keinem keinen keiner keines können könnte machen man manche manchem manchen mancher manches mein "
        "meine meinem meinen meiner meines mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein "
        "seine seinem seinen seiner seines selbst sich sie ihnen sind so solche solchem solchen solcher solches soll "
        "sollte sondern sonst über um und uns unsere unserem unseren unser unseres unter viel vom von vor während "
        "war waren warst was weg weil weiter welche welchem welchen welcher welches wenn werde werden wie wieder "
        "will wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen".split()
    ),
    "en": set(
        "a about above after again against all am an and any are as at be because been before being below between "
        "both but by could did do does doing down during each few for from further had has have having he her here "
        "hers herself him himself his how i if in into is it its itself let me more most my myself no nor not of off "
        "on once only or other ought our ours ourselves out over own same she should so some such than that the their "
        "theirs them themselves then there these they this those through to too under until up very was we were what "
        "when where which while who whom why with would you your yours yourself yourselves".split()
    ),
}
# Words that carry no content a passage could cover (general German and English): particles and
# fillers of spoken language, verbs of asking and having, and the interrogatives whose meaning
# the asked kind of fact stands for. Rare in articles, they would get the highest idf of a question.
_FILLER_WORDS = (
    "eigentlich irgendwas irgendwie irgendwo irgendwann irgendein irgendeine sowas echt überhaupt schon mal halt eben eh "
    "ja doch denn wohl bloß einfach gerade grad gerne gern leider jetzt bald nochmal bitte danke hallo nen ne rum raus "
    "rein drauf dran drin ganz total wirklich ziemlich genau gibt gibt's geht geht's gilt wissen weiß will möchte möchten "
    "würde könnte darf dürft dürfen bekomme bekommen bekommt kriege krieg kriegen kriegt mache mach machen macht tun tue "
    "hab habe hast habt sag sagt passiert wie wann lange lang viel viele oft welche welcher welches welchen "
    "actually anything something anyone just really ever even please get got gets go going know want wanna need would "
    "could may might much many long often soon anyway thing things stuff does did do happen happens"
)
QUESTION_FILLERS = frozenset(_FILLER_WORDS.split())
# words after a number that are no unit ("Hauptstraße 12 in Rosenheim", "mein Sohn ist 19 und")
NON_UNITS = frozenset().union(*STOP_WORDS.values()) | QUESTION_FILLERS
SNOWBALL = {"de": "german", "en": "english", "fr": "french", "it": "italian", "es": "spanish", "nl": "dutch"}
TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
GERMAN_FOLD = [("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss"), ("ae", "a"), ("oe", "o"), ("ue", "u")]
COMPOUND_MIN_LENGTH = 8
# The splitter's work grows with the cube of a word's length (a 2,000-letter "word" took minutes);
# the longest real German compounds have about 60 letters, so longer words are only stemmed.
COMPOUND_MAX_LENGTH = 64
COMPOUND_MIN_SCORE = -0.7


@lru_cache(maxsize=16)
def stemmer_for(language: str) -> Stemmer.Stemmer | None:
    algorithm = SNOWBALL.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


def language_of(locale: str) -> str:
    return (locale or "").split("-")[0].lower()


def fold_german(word: str) -> str:
    for source, target in GERMAN_FOLD:
        word = word.replace(source, target)
    return word


@lru_cache(maxsize=200_000)
def _split_compound(word: str) -> tuple[str, ...]:
    """Body and head of a German compound, recursively; empty when the word is not one."""
    from compound_split import char_split

    candidates = char_split.split_compound(word)
    if not candidates:
        return ()
    score, body, head = candidates[0]
    if score < COMPOUND_MIN_SCORE or len(body) < 3 or len(head) < 3 or body.lower() == word.lower():
        return ()
    parts: list[str] = []
    for part in (body, head):
        sub = _split_compound(part) if len(part) >= COMPOUND_MIN_LENGTH else ()
        parts.extend(sub or (part,))
    return tuple(part.lower() for part in parts)


@lru_cache(maxsize=500_000)
def _terms_for_word(word: str, language: str) -> tuple[str, ...]:
    if word in STOP_WORDS.get(language, ()):
        return ()
    if word[0].isdigit():
        return (word,)
    stemmer = stemmer_for(language)
    stem = stemmer.stemWord(word) if stemmer else word
    if language == "de":
        terms = [fold_german(stem)]
        if COMPOUND_MIN_LENGTH <= len(word) <= COMPOUND_MAX_LENGTH:
            for part in _split_compound(word):
                if part not in STOP_WORDS["de"]:
                    part_stem = fold_german(stemmer.stemWord(part))
                    if len(part_stem) >= 3 and part_stem not in terms:
                        terms.append(part_stem)
        return tuple(terms)
    return (unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode() or stem,)


def tokens(text: str) -> list[str]:
    return [match.group(0).lower() for match in TOKEN.finditer(unicodedata.normalize("NFC", text))]


@lru_cache(maxsize=100_000)
def word_terms(word: str, locale: str) -> tuple[str, ...]:
    """analyze() of one word, remembered: snippets test thousands of words per search, mostly the same ones."""
    return tuple(analyze(word, locale))


def analyze(text: str, locale: str) -> list[str]:
    """Index terms of a text in its language, in order (repeated terms repeat)."""
    language = language_of(locale)
    result: list[str] = []
    for word in tokens(text):
        result.extend(_terms_for_word(word, language))
    return result


# Words that mix letters and digits ("ATF4", "Lin28", "5G", "S24", "FRITZ!Box 7590" stays two
# words) are split by `tokens` into a letter part and a number; the whole word is also indexed,
# so a query naming a gene, a product or a model meets exactly that name.
ALPHANUMERIC = re.compile(r"[^\W_]*(?:\d[^\W\d_]|[^\W\d_]\d)[^\W_]*")
ALPHANUMERIC_TERMS = True


def alphanumeric_terms(text: str) -> list[str]:
    if not ALPHANUMERIC_TERMS:
        return []
    return [match.group(0).lower()[:100] for match in ALPHANUMERIC.finditer(unicodedata.normalize("NFC", text))]


def term_frequencies(text: str, locale: str) -> Counter[str]:
    """Index terms of a text with their counts: `analyze` plus whole alphanumeric words."""
    counts = Counter(analyze(text, locale))
    counts.update(alphanumeric_terms(text))
    return counts


def query_terms(text: str, locales: list[str], *, secondary_weight: float) -> Counter[str]:
    """Query terms under each candidate language, so a German query also meets English stems.

    The first locale is the query's own language: its terms count fully. Terms that only the
    other languages produce count with `secondary_weight` (retrieval.tuning.SECONDARY_LANGUAGE_WEIGHT), and the query language's stop words
    are not looked up in the other languages ("die", "the" are not content words there).
    """
    languages = list(dict.fromkeys(language_of(loc) for loc in locales))
    weights: Counter[str] = Counter()
    if not languages:
        return weights
    primary = languages[0]
    words = tokens(text)
    for language in languages:
        counts: Counter[str] = Counter()
        for word in words:
            if language != primary and word in STOP_WORDS.get(primary, ()):
                continue
            counts.update(_terms_for_word(word, language))
        factor = 1.0 if language == primary else secondary_weight
        for term, count in counts.items():
            weights[term] = max(weights[term], count * factor)
    for term, count in Counter(alphanumeric_terms(text)).items():
        weights[term] = max(weights[term], float(count))
    return weights


def detect_language(text: str, default: str = "de") -> str:
    """German or English by stop words and umlauts (general language knowledge); `default` on a tie."""
    words = tokens(text)
    german = sum(word in STOP_WORDS["de"] for word in words) + 2 * len(re.findall(r"[äöüß]", text.lower()))
    english = sum(word in STOP_WORDS["en"] for word in words)
    if german == english:
        return default
    return "de" if german > english else "en"
