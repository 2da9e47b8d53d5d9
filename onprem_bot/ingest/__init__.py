"""Ingestion: loaders turn files into blocks, chunkers turn blocks into chunks."""
