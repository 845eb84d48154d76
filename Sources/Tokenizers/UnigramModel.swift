/// The SentencePiece Unigram model of Hugging Face `tokenizers` (`models/unigram/model.rs`), as
/// XLM-RoBERTa checkpoints carry it in `tokenizer.json` (`model.type == "Unigram"`).
///
/// A pre-tokenized piece is segmented by the Viterbi best path over the vocabulary's log-probability
/// scores (Hugging Face's `encode_optimized`, a port of SentencePiece's `EncodeOptimized`):
/// - every vocabulary entry (special tokens included) that matches at a position is a candidate edge;
/// - a character with no single-character entry gets an extra "unknown" edge scored `min score − 10`;
/// - ties keep the first candidate (shorter entries are tried first), a later one must score strictly higher;
/// - walking the best path back, consecutive edges whose id is `unk_id` are fused into one string;
///   a fused string is looked up in the vocabulary again, then, with `byte_fallback`, spelt as
///   `<0xXX>` byte pieces (one per UTF-8 byte), otherwise it becomes `unk_id`.
///
/// Lookups walk a trie of the pieces' scalars stored in flat arrays; `tokenize` allocates nothing on the
/// heap for pieces up to a few hundred characters (the lattice lives in a temporary stack buffer).
public struct UnigramModel: Sendable {
    /// Piece → id.
    private let idsByToken: [String: Int32]
    /// Id → piece.
    private let tokens: [String]
    /// Id → score (log probability).
    private let scores: [Double]
    /// The id unknown characters map to.
    let unknownID: Int32
    /// Whether unknown strings are spelt as `<0xXX>` byte pieces.
    let byteFallback: Bool
    /// `byteIDs[b]`: the id of `<0xXX>` for byte `b` (empty without byte fallback).
    private let byteIDs: [Int32]
    /// The score of an unknown character: the smallest score minus 10 (Hugging Face's `K_UNK_PENALTY`).
    private let unknownScore: Double

    // The trie: node n's children are edges edgeStart[n] ..< edgeStart[n + 1], sorted by label.
    private let edgeStart: [Int32]
    private let edgeLabel: [UInt32]
    private let edgeTarget: [Int32]
    /// The id of the piece ending at node n, or -1.
    private let nodeTokenID: [Int32]
    /// Children of the root for scalars below `rootTableSize`, indexed directly (-1: none).
    private let rootTable: [Int32]
    private static let rootTableSize = 0x3100

    /// The number of vocabulary entries.
    public var vocabularySize: Int { tokens.count }

    /// Builds the model from `model.vocab` of a `tokenizer.json`.
    /// - Parameters:
    ///   - vocabulary: The pieces and their scores, in id order.
    ///   - unknownID: `model.unk_id`. Required: without it Hugging Face fails to encode any text with a
    ///     character outside the vocabulary, so such a file is refused here rather than at encoding time.
    ///   - byteFallback: `model.byte_fallback`; requires all 256 pieces `<0x00>` … `<0xFF>`.
    ///   - file: The path named in errors.
    /// - Throws: ``TokenizerError`` (`invalidVocabulary`, `missingSpecialToken`) naming `file` and the field.
    public init(vocabulary: [(token: String, score: Double)], unknownID: Int?, byteFallback: Bool, file: String) throws(TokenizerError) {
        guard !vocabulary.isEmpty else {
            throw TokenizerError(.invalidVocabulary, file: file, field: "model.vocab", message: "the Unigram vocabulary is empty")
        }
        guard vocabulary.count < Int(Int32.max) else {
            throw TokenizerError(.invalidVocabulary, file: file, field: "model.vocab", message: "the Unigram vocabulary has \(vocabulary.count) entries, more than ids can hold")
        }
        guard let unknownID else {
            throw TokenizerError(.missingSpecialToken, file: file, field: "model.unk_id",
                                 message: "the Unigram model has no unk_id (Hugging Face cannot encode characters outside its vocabulary without one)")
        }
        guard unknownID >= 0 && unknownID < vocabulary.count else {
            throw TokenizerError(.invalidVocabulary, file: file, field: "model.unk_id",
                                 message: "unk_id \(unknownID) is outside the vocabulary of \(vocabulary.count) entries")
        }
        var idsByToken: [String: Int32] = [:]
        idsByToken.reserveCapacity(vocabulary.count)
        var tokens: [String] = []
        tokens.reserveCapacity(vocabulary.count)
        var scores: [Double] = []
        scores.reserveCapacity(vocabulary.count)
        var minScore = Double.infinity
        for (index, entry) in vocabulary.enumerated() {
            guard entry.score.isFinite else {
                throw TokenizerError(.invalidVocabulary, file: file, field: "model.vocab[\(index)]",
                                     message: "the score of \(entry.token.debugDescription) is not a finite number")
            }
            if let previous = idsByToken.updateValue(Int32(index), forKey: entry.token) {
                throw TokenizerError(.invalidVocabulary, file: file, field: "model.vocab[\(index)]",
                                     message: "the piece \(entry.token.debugDescription) is already entry \(previous)")
            }
            tokens.append(entry.token)
            scores.append(entry.score)
            minScore = min(minScore, entry.score)
        }
        var byteIDs: [Int32] = []
        if byteFallback {
            byteIDs.reserveCapacity(256)
            for byte in 0..<256 {
                let name = UnigramModel.bytePieceName(UInt8(byte))
                guard let id = idsByToken[name] else {
                    throw TokenizerError(.invalidVocabulary, file: file, field: "model.byte_fallback",
                                         message: "byte_fallback is set but the vocabulary has no piece \(name)")
                }
                byteIDs.append(id)
            }
        }
        self.idsByToken = idsByToken
        self.tokens = tokens
        self.scores = scores
        self.unknownID = Int32(unknownID)
        self.byteFallback = byteFallback
        self.byteIDs = byteIDs
        self.unknownScore = minScore - 10.0

        // Build the trie: first with per-node dictionaries, then flattened into sorted edge arrays.
        var children: [[UInt32: Int32]] = [[:]]
        var nodeTokenID: [Int32] = [-1]
        for (index, token) in tokens.enumerated() {
            var node = 0
            for scalar in token.unicodeScalars {
                if let next = children[node][scalar.value] {
                    node = Int(next)
                } else {
                    let next = Int32(children.count)
                    children.append([:])
                    nodeTokenID.append(-1)
                    children[node][scalar.value] = next
                    node = Int(next)
                }
            }
            if node != 0 { nodeTokenID[node] = Int32(index) }  // The empty piece never matches (as in Hugging Face).
        }
        var edgeStart: [Int32] = []
        edgeStart.reserveCapacity(children.count + 1)
        var edgeLabel: [UInt32] = []
        var edgeTarget: [Int32] = []
        edgeLabel.reserveCapacity(children.count)
        edgeTarget.reserveCapacity(children.count)
        for node in children {
            edgeStart.append(Int32(edgeLabel.count))
            for (label, target) in node.sorted(by: { $0.key < $1.key }) {
                edgeLabel.append(label)
                edgeTarget.append(target)
            }
        }
        edgeStart.append(Int32(edgeLabel.count))
        var rootTable = [Int32](repeating: -1, count: UnigramModel.rootTableSize)
        for (label, target) in children[0] where label < UInt32(UnigramModel.rootTableSize) {
            rootTable[Int(label)] = target
        }
        self.edgeStart = edgeStart
        self.edgeLabel = edgeLabel
        self.edgeTarget = edgeTarget
        self.nodeTokenID = nodeTokenID
        self.rootTable = rootTable
    }

    /// `<0xXX>` with two upper-case hex digits, as Hugging Face spells byte pieces.
    static func bytePieceName(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        var name = "<0x"
        name.unicodeScalars.append(digits[Int(byte >> 4)])
        name.unicodeScalars.append(digits[Int(byte & 15)])
        name += ">"
        return name
    }

    /// The id of a vocabulary piece.
    public func id(forToken token: String) -> Int32? { idsByToken[token] }

    /// The piece of an id, `nil` outside the vocabulary.
    public func token(forID id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    /// The score of an id, `nil` outside the vocabulary.
    public func score(forID id: Int32) -> Double? {
        id >= 0 && Int(id) < scores.count ? scores[Int(id)] : nil
    }

    /// The child of trie node `node` along `scalar`, or -1.
    @inline(__always)
    private func child(_ node: Int32, _ scalar: UInt32) -> Int32 {
        if node == 0 {
            if scalar < UInt32(UnigramModel.rootTableSize) { return rootTable[Int(scalar)] }
        }
        var low = Int(edgeStart[Int(node)])
        var high = Int(edgeStart[Int(node) + 1])
        while low < high {
            let middle = (low + high) >> 1
            let label = edgeLabel[middle]
            if label == scalar { return edgeTarget[middle] }
            if label < scalar { low = middle + 1 } else { high = middle }
        }
        return -1
    }

    /// One lattice cell: the best path ending here.
    private struct Cell {
        var score: Double
        var start: Int32  // -1: not reached yet
        var id: Int32
    }

    /// Appends the ids of one pre-tokenized piece (for XLM-R, a Metaspace word such as `▁Hello`).
    /// - Parameters:
    ///   - piece: The scalars of the piece; empty pieces give no ids.
    ///   - ids: Receives the ids, in order.
    public func tokenize(_ piece: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        let count = piece.count
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: Cell.self, capacity: count + 1) { cells in
            cells.initialize(repeating: Cell(score: 0, start: -1, id: -1))
            piece.withContiguousStorageIfAvailable { scalars in
                viterbi(scalars, cells)
                backtrack(scalars, cells, into: &ids)
            } ?? {
                let copy = Array(piece)
                copy.withUnsafeBufferPointer { scalars in
                    viterbi(scalars, cells)
                    backtrack(scalars, cells, into: &ids)
                }
            }()
        }
    }

    /// Fills `cells[i]` with the best path over `scalars[0 ..< i]` (Hugging Face's `encode_optimized`).
    private func viterbi(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ cells: UnsafeMutableBufferPointer<Cell>) {
        let count = scalars.count
        cells[0].start = 0
        for start in 0..<count {
            let base = cells[start].score
            var hasSingle = false
            var node: Int32 = 0
            var end = start
            while end < count {
                node = child(node, scalars[end].value)
                if node < 0 { break }
                end += 1
                let id = nodeTokenID[Int(node)]
                if id >= 0 {
                    let candidate = scores[Int(id)] + base
                    if cells[end].start < 0 || candidate > cells[end].score {
                        cells[end] = Cell(score: candidate, start: Int32(start), id: id)
                    }
                    if end == start + 1 { hasSingle = true }
                }
            }
            if !hasSingle {
                let candidate = unknownScore + base
                if cells[start + 1].start < 0 || candidate > cells[start + 1].score {
                    cells[start + 1] = Cell(score: candidate, start: Int32(start), id: unknownID)
                }
            }
        }
    }

    /// Walks the best path back, fuses runs of unknown edges and appends the ids in order.
    private func backtrack(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ cells: UnsafeMutableBufferPointer<Cell>,
                           into ids: inout [Int32]) {
        // Collect the edges back to front into ids, then reverse the appended range. A fused run of
        // unknown edges is resolved once its first edge is reached; byte pieces are appended reversed.
        let first = ids.count
        var end = scalars.count
        var runEnd = -1  // end of the pending run of unknown edges, -1: none
        while end > 0 {
            let cell = cells[end]
            let start = Int(cell.start)
            if cell.id == unknownID {
                if runEnd < 0 { runEnd = end }
            } else {
                if runEnd >= 0 {
                    appendFused(scalars, end, runEnd, into: &ids)
                    runEnd = -1
                }
                ids.append(cell.id)
            }
            end = start
        }
        if runEnd >= 0 { appendFused(scalars, 0, runEnd, into: &ids) }
        ids[first...].reverse()
    }

    /// Appends, reversed, the ids of the fused unknown string `scalars[start ..< end]`.
    private func appendFused(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ start: Int, _ end: Int, into ids: inout [Int32]) {
        // The fused string may itself be a piece (a literal "<unk>", or several unknown-scored edges that
        // spell an entry).
        var node: Int32 = 0
        var index = start
        while index < end {
            node = child(node, scalars[index].value)
            if node < 0 { break }
            index += 1
        }
        if node > 0, index == end, nodeTokenID[Int(node)] >= 0 {
            ids.append(nodeTokenID[Int(node)])
            return
        }
        guard byteFallback else {
            ids.append(unknownID)
            return
        }
        var position = end
        while position > start {
            position -= 1
            // UTF-8 bytes of one scalar, appended last byte first.
            let value = scalars[position].value
            if value < 0x80 {
                ids.append(byteIDs[Int(value)])
            } else if value < 0x800 {
                ids.append(byteIDs[Int(0x80 | (value & 0x3F))])
                ids.append(byteIDs[Int(0xC0 | (value >> 6))])
            } else if value < 0x10000 {
                ids.append(byteIDs[Int(0x80 | (value & 0x3F))])
                ids.append(byteIDs[Int(0x80 | ((value >> 6) & 0x3F))])
                ids.append(byteIDs[Int(0xE0 | (value >> 12))])
            } else {
                ids.append(byteIDs[Int(0x80 | (value & 0x3F))])
                ids.append(byteIDs[Int(0x80 | ((value >> 6) & 0x3F))])
                ids.append(byteIDs[Int(0x80 | ((value >> 12) & 0x3F))])
                ids.append(byteIDs[Int(0xF0 | (value >> 18))])
            }
        }
    }
}
