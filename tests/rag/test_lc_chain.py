"""The LangChain version of the pipeline runs offline: loader, splitters, embeddings interface,
in-memory vector store (checked against brute-force cosine) and the LCEL chain with fake chat
models standing in for the LLM."""

from __future__ import annotations

import numpy as np
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    ParrotFakeChatModel,
)

from snippets.rag.corpus import load_mini_guide
from snippets.rag.lc_chain import (
    PROMPT,
    GuideLoader,
    LocalEmbeddings,
    build_retriever,
    format_docs,
    rag_chain,
    split,
)

PAGE = (
    """---
title: What is LoRA?
---

# What is LoRA? { #lora }

Intro text.

## Explanation { #explanation }

"""
    + "LoRA learns a low-rank update of a frozen weight. " * 40
)


def mini_docs() -> list[Document]:
    return [
        Document(page_content=s.text, metadata={"slug": s.slug, "title": s.title})
        for s in load_mini_guide("en")
    ]


def test_loader_yields_one_document_per_page(tmp_path):
    (tmp_path / "en" / "fine-tuning").mkdir(parents=True)
    (tmp_path / "en" / "fine-tuning" / "lora.md").write_text(PAGE, encoding="utf-8")
    docs = GuideLoader("en", docs=tmp_path).load()
    assert len(docs) == 1
    assert docs[0].metadata == {"slug": "fine-tuning/lora", "title": "What is LoRA?"}
    assert "title:" not in docs[0].page_content


def test_split_keeps_headings_as_metadata_and_respects_the_size(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "lora.md").write_text(PAGE, encoding="utf-8")
    chunks = split(GuideLoader("en", docs=tmp_path).load(), chunk_size=300, overlap=50)
    assert len(chunks) > 5 and all(len(c.page_content) <= 300 for c in chunks)
    assert {c.metadata["slug"] for c in chunks} == {"lora"}
    body = [c for c in chunks if c.metadata.get("h2", "").startswith("Explanation")]
    assert len(body) == len(chunks) - 1  # everything but the intro is under the H2
    # Consecutive chunks of one section overlap.
    assert any(body[i].page_content[-30:] in body[i + 1].page_content for i in range(len(body) - 1))


def test_vector_store_ranks_like_brute_force_cosine(fake_embed):
    docs = mini_docs()
    retriever = build_retriever(docs, LocalEmbeddings(fake_embed), k=5)
    query = "How does FlashAttention save memory?"
    found = [d.metadata["slug"] for d in retriever.invoke(query)]
    vectors = fake_embed([d.page_content for d in docs])
    cosine = vectors @ fake_embed([query])[0]
    assert found == [docs[i].metadata["slug"] for i in np.argsort(-cosine, kind="stable")[:5]]


def test_chain_sends_the_retrieved_sources_to_the_model(fake_embed):
    retriever = build_retriever(mini_docs(), LocalEmbeddings(fake_embed), k=2)
    question = "How are the low-rank matrices of LoRA initialised?"
    # The parrot model answers with the last message it received: the filled-in prompt.
    echoed = rag_chain(retriever, ParrotFakeChatModel()).invoke(question)
    top = retriever.invoke(question)
    assert (
        echoed
        == PROMPT.invoke({"context": format_docs(top), "question": question})
        .to_messages()[-1]
        .content
    )
    assert "[1] " + top[0].metadata["slug"] + ".md" in echoed and "[2] " in echoed
    assert echoed.endswith("Question: " + question)


def test_chain_returns_the_model_answer_as_a_string(fake_embed):
    retriever = build_retriever(mini_docs(), LocalEmbeddings(fake_embed), k=2)
    llm = FakeListChatModel(responses=["B starts at zero [1]."])
    assert rag_chain(retriever, llm).invoke("LoRA?") == "B starts at zero [1]."


def test_which_components_are_runnables(fake_embed):
    # The page: prompts, chat models, retrievers, output parsers and tools are Runnables;
    # embeddings, vector stores, loaders and splitters are not (as_retriever() bridges).
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.runnables import Runnable
    from langchain_core.tools import tool
    from langchain_core.vectorstores import InMemoryVectorStore
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    @tool
    def lookup(query: str) -> str:
        """Look a term up."""
        return query

    embeddings = LocalEmbeddings(fake_embed)
    store = InMemoryVectorStore(embeddings)
    runnables = [PROMPT, FakeListChatModel(responses=["x"]), StrOutputParser(), lookup]
    runnables.append(store.as_retriever())
    assert all(isinstance(r, Runnable) for r in runnables)
    others = [embeddings, store, GuideLoader("en"), RecursiveCharacterTextSplitter()]
    assert not any(isinstance(o, Runnable) for o in others)
