"""The Whoosh analyzers of the indexed fields: thin wrappers that hand Whoosh the pipeline's words.

Whoosh pickles a field's analyzer into the index, so :class:`PipelineAnalyzer` pickles only the name of
its pipeline (``"text"`` or ``"words"``); renaming or moving this class means a rebuild.
"""

from whoosh.analysis import Analyzer, Token

from analyzers.pipeline import PIPELINES


class PipelineAnalyzer(Analyzer):
    """Whoosh's analyzer interface over one :class:`analyzers.pipeline.Pipeline`, in every mode.

    ``PipelineAnalyzer("text")`` gives ``color``, ``printer``, ``wont``, ``print`` for
    ``"The colour printers won't print"``, at index and at query time alike.
    """

    def __init__(self, name):
        """
        :param name: ``"text"``, ``"words"`` or ``"surface"`` (see ``analyzers.pipeline.PIPELINES``).
        :raises ValueError: for any other name.
        """
        if name not in PIPELINES:
            raise ValueError(f"unknown analysis {name!r}; use one of {', '.join(sorted(PIPELINES))}")
        self.name = name
        self.pipeline = PIPELINES[name]()

    def __getstate__(self):
        return {"name": self.name}

    def __setstate__(self, state):
        self.__init__(state["name"])

    def __eq__(self, other):
        return type(other) is type(self) and other.name == self.name

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((type(self).__name__, self.name))

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"

    def index_terms(self, value):
        """The terms Whoosh indexes for ``value``, in order (the fast writer counts them directly).

        :param value: the text of one field.
        :returns: a tuple of strings.
        """
        return self.pipeline.terms(value)

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        mode="",
        **kwargs,
    ):
        """Yield a (reused) ``Token`` for each word of ``value``, as Whoosh's analyzers do.

        :param value: the text to analyze.
        :param positions: record ``t.pos``; the parts of a compound share its position.
        :param chars: record ``t.startchar`` and ``t.endchar``.
        :param keeporiginal: set ``t.original`` to the term.
        :param start_pos: added to every position.
        :param start_char: added to every character offset.
        :param mode: ``"index"`` or ``"query"``: the analysis is the same in both.
        """
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for word in self.pipeline.words(value):
            token.text = word.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word.text
            if positions:
                token.pos = start_pos + word.position
            if chars:
                token.startchar = start_char + word.start
                token.endchar = start_char + word.end
            yield token


def text_analyzer():
    """Analyzer of the catch-all ``text`` field: normalized words, stop words out, Porter stems.

    ``"The colour printers won't print"`` gives ``color``, ``printer``, ``wont``, ``print``.
    """
    return PipelineAnalyzer("text")


def words_analyzer():
    """Analyzer of the ``words`` field: normalized whole words, not stemmed (the vocabulary of corrections).

    ``"The colour printers won't print"`` gives ``color``, ``printers``, ``wont``, ``print``.
    """
    return PipelineAnalyzer("words")
