"""Tiny real transformers models built offline, for contract tests of the Hugging Face backends.

Weights are random: the tests check shapes, labels, batching and loading, never accuracy.
Each builder writes a folder that `from_pretrained` / `pipeline(model=folder)` loads with no hub.
"""

from __future__ import annotations

import json
from pathlib import Path

TEXT_LABELS = ("negative", "neutral", "positive")
AUDIO_LABELS = ("calm", "anxious", "energetic")
SENTENCES = (
    "i love this talk it is great",
    "this is fine i guess",
    "i hate waiting it is awful and boring",
    "some text the speaker said today",
)


def _id2label(labels: tuple[str, ...]) -> dict[int, str]:
    return dict(enumerate(labels))


def build_text_classifier(folder: Path, labels: tuple[str, ...] = TEXT_LABELS) -> Path:
    """A 2-layer RoBERTa sequence classifier with a WordLevel tokenizer trained on a few sentences."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaForSequenceClassification

    specials = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0..3 match RobertaConfig's bos/pad/eos defaults
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>",
        model_max_length=64,
    )
    config = RobertaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=80, id2label=_id2label(labels),
        label2id={v: k for k, v in _id2label(labels).items()},
    )
    RobertaForSequenceClassification(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def _wav2vec2_config(**extra):
    from transformers import Wav2Vec2Config

    return Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(32, 32, 32), conv_stride=(5, 4, 2), conv_kernel=(10, 4, 2), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, classifier_proj_size=16, **extra,
    )


def build_audio_classifier(folder: Path, labels: tuple[str, ...] = AUDIO_LABELS, sampling_rate: int = 16_000) -> Path:
    """A tiny Wav2Vec2 sequence classifier plus its feature extractor at `sampling_rate`."""
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    config = _wav2vec2_config(id2label=_id2label(labels), label2id={v: k for k, v in _id2label(labels).items()})
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=sampling_rate, return_attention_mask=True).save_pretrained(folder)
    return folder


def build_speech_recognizer(folder: Path) -> Path:
    """A tiny Wav2Vec2ForCTC with a character vocabulary, tokenizer and processor."""
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Processor

    folder.mkdir(parents=True, exist_ok=True)
    chars = list("abcdefghijklmnopqrstuvwxyz'")
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    vocab_file = folder / "vocab.json"
    vocab_file.write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = Wav2Vec2CTCTokenizer(str(vocab_file), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(sampling_rate=16_000, return_attention_mask=True)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    config = _wav2vec2_config(vocab_size=len(vocab), pad_token_id=0, ctc_loss_reduction="mean")
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    return folder
