"""The section's RAG pipeline rebuilt with LangChain 1.x building blocks (langchain-core and
langchain-text-splitters), fully offline: a document loader for this guide, a Markdown-aware
splitter, the bundled MiniLM model behind LangChain's Embeddings interface, the in-memory
vector store, and an LCEL chain. A fake chat model stands in for the LLM."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from snippets.rag.corpus import ROOT, clean_markdown


# --8<-- [start:loader]
class GuideLoader(BaseLoader):
    """Document loader: one Document per Markdown page of docs/<lang>/ (this guide)."""

    def __init__(self, lang: str, docs: Path = ROOT / "docs") -> None:
        self.base = docs / lang

    def lazy_load(self) -> Iterator[Document]:
        for path in sorted(self.base.rglob("*.md")):
            text, meta = clean_markdown(path.read_text(encoding="utf-8"))
            slug = path.relative_to(self.base).with_suffix("").as_posix()
            yield Document(
                page_content=text, metadata={"slug": slug, "title": meta.get("title", slug)}
            )
# --8<-- [end:loader]


# --8<-- [start:split]
def split(documents: list[Document], chunk_size: int = 1000, overlap: int = 200) -> list[Document]:
    """Split each page at its headings (kept as metadata), then into overlapping chunks."""
    by_heading = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")]
    )
    by_size = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap)
    chunks = []
    for doc in documents:
        sections = by_heading.split_text(doc.page_content)
        for section in sections:
            section.metadata = doc.metadata | section.metadata
        chunks += by_size.split_documents(sections)
    return chunks
# --8<-- [end:split]


# --8<-- [start:embeddings]
class LocalEmbeddings(Embeddings):
    """LangChain's Embeddings interface around any function texts -> unit vectors
    (here the bundled all-MiniLM-L6-v2, snippets.rag.embed.embed)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]) -> None:
        self.embed = embed

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()
# --8<-- [end:embeddings]


# --8<-- [start:chain]
PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "Answer only from the numbered sources and cite them like [1]. "
            "If they do not contain the answer, say you do not know.",
        ),
        ("human", "Sources:\n{context}\n\nQuestion: {question}"),
    ]
)


def format_docs(docs: list[Document]) -> str:
    """Number the retrieved chunks and say where each comes from."""
    return "\n\n".join(
        f"[{n}] {d.metadata['slug']}.md ({d.metadata['title']})\n{d.page_content}"
        for n, d in enumerate(docs, start=1)
    )


def build_retriever(chunks: list[Document], embeddings: Embeddings, k: int = 4) -> BaseRetriever:
    """Vector store (exact cosine search in memory) exposed as a retriever."""
    store = InMemoryVectorStore.from_documents(chunks, embeddings)
    return store.as_retriever(search_kwargs={"k": k})


def rag_chain(retriever: BaseRetriever, llm: BaseChatModel) -> Runnable:
    """LCEL: question -> {context, question} -> prompt -> chat model -> string."""
    return (
        {"context": retriever | format_docs, "question": RunnablePassthrough()}
        | PROMPT
        | llm
        | StrOutputParser()
    )
# --8<-- [end:chain]


if __name__ == "__main__":
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from snippets.rag.corpus import load_mini_guide

    # The vectors all-MiniLM-L6-v2 gives these texts, stored (see snippets/rag/frozen.py).
    from snippets.rag.frozen import frozen_embed as embed

    # The frozen mini guide (not the live pages), so that this output can be recorded.
    pages = [
        Document(page_content=s.text, metadata={"slug": s.slug, "title": s.title})
        for s in load_mini_guide("en")
    ]
    chunks = split(pages, chunk_size=300, overlap=60)
    print(f"{len(pages)} pages -> {len(chunks)} chunks")
    retriever = build_retriever(chunks, LocalEmbeddings(embed), k=2)
    llm = FakeListChatModel(
        responses=["B starts at zero, so training starts from the base model [1]."]
    )
    question = "How are the two low-rank matrices initialised in LoRA?"
    prompt = {"context": retriever | format_docs, "question": RunnablePassthrough()} | PROMPT
    for message in prompt.invoke(question).to_messages():
        print(f"--- {message.type}\n{message.content}")
    print("--- answer (fake model)\n" + rag_chain(retriever, llm).invoke(question))
