"""The metadata keys a stored chunk carries, named once: ingest writes them, Chroma and BM25 keep
them, retrieval filters on them and `rag.evidence` reads them. Nothing else spells them."""

SOURCE = "source"
TITLE = "title"
START = "start"
END = "end"
POSITION = "position"
URL = "url"
PUBLISHED = "published"
# Sortable YYYYMMDD number for Chroma `where` filters; 0 = the article states no date.
PUBLISHED_NUM = "published_num"
SENTENCES = "sentences"  # JSON spans relative to the chunk text
SENTENCE_VECTORS = "sentence_vectors"  # packed float vectors, one row per span

# Kept by the keyword index too (it needs no vectors).
PLAIN = (SOURCE, TITLE, START, END, POSITION, URL, PUBLISHED, PUBLISHED_NUM, SENTENCES)
