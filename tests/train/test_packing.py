"""Stage-1 packing: every token of every text, once, in order, with EOS between documents."""

from __future__ import annotations

import pytest

from helpers import TEXTS
from medadapt.errors import DataError
from medadapt.train.packing import pack_blocks, split_blocks, token_stream


@pytest.mark.parametrize("block_size", [7, 16, 10_000])
def test_blocks_hold_every_token_exactly_once(tiny_tokenizer, block_size):
    stream = token_stream(tiny_tokenizer, TEXTS)
    expected = []
    for text in TEXTS:
        expected += tiny_tokenizer(text, add_special_tokens=False)["input_ids"] + [tiny_tokenizer.eos_token_id]
    assert stream == expected and stream.count(tiny_tokenizer.eos_token_id) == len(TEXTS)
    blocks = pack_blocks(stream, block_size)
    assert [t for block in blocks for t in block] == stream  # nothing lost, duplicated or reordered
    assert all(len(b) == block_size for b in blocks[:-1]) and 0 < len(blocks[-1]) <= block_size
    assert len(blocks) == -(-len(stream) // block_size)


def test_dev_split_partitions_the_blocks_reproducibly():
    blocks = [[i] for i in range(40)]
    train, dev = split_blocks(blocks, 0.1, seed=3)
    assert len(dev) == 4 and sorted(train + dev) == blocks and not set(map(tuple, train)) & set(map(tuple, dev))
    assert split_blocks(blocks, 0.1, seed=3) == (train, dev) and split_blocks(blocks, 0.1, seed=4) != (train, dev)
    assert split_blocks(blocks, 0.0, seed=3) == (blocks, [])


def test_tokenizer_without_eos_is_refused(tiny_tokenizer):
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    tok.eos_token = None
    with pytest.raises(DataError, match="no EOS token"):
        token_stream(tok, TEXTS)



def bos_adding(tiny_tokenizer):
    """The tiny tokenizer made to start every text with BOS, as Llama's and Gemma's do."""
    import copy

    from tokenizers import processors

    tok = copy.deepcopy(tiny_tokenizer)
    bos = tok.bos_token
    tok.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.bos_token_id)])
    return tok


def test_a_tokenizer_that_starts_texts_with_bos_gets_it_before_every_document_and_block(tiny_tokenizer):
    from medadapt.train.packing import leading_bos

    assert leading_bos(tiny_tokenizer) is None  # adds no BOS: the stream and blocks as before
    tok = bos_adding(tiny_tokenizer)
    bos, eos = leading_bos(tok), tok.eos_token_id
    assert bos == tok.bos_token_id
    stream = token_stream(tok, TEXTS)
    expected = []
    for text in TEXTS:
        expected += [bos] + tok(text, add_special_tokens=False)["input_ids"] + [eos]
    assert stream == expected
    for block_size in (7, 16, 10_000):
        blocks = pack_blocks(stream, block_size, bos)
        assert all(block[0] == bos for block in blocks)
        assert all(len(block) == block_size for block in blocks[:-1]) and 0 < len(blocks[-1]) <= block_size
        rebuilt, position = [], 0  # each block: the stream's next tokens, after a BOS put in front mid-document
        for block in blocks:
            own = block if stream[position] == bos else block[1:]
            assert stream[position:position + len(own)] == own
            rebuilt += own
            position += len(own)
        assert rebuilt == stream
    assert len(pack_blocks(stream, 10_000, bos)) == 1
