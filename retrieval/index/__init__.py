"""The index: chunking, embeddings, postings and vectors, reindexing, corpus statistics, the vector cache."""
