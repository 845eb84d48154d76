// The tokenizer and checkpoint types appear in this module's API (``SentenceEncoder/tokenizer``,
// ``EncoderError/checkpoint(_:)``), so importing TransformerEncoder brings them along.
@_exported import SafeTensors
@_exported import Tokenizers
