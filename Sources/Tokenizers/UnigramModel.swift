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
    /// Id → piece.
    private let tokens: [String]
    /// Id → score (log probability).
    private let scores: [Double]
    /// The id unknown characters map to.
    let unknownID: Int32
    /// Whether unknown strings are spelt as `<0xXX>` byte pieces.
    let byteFallback: Bool
    /// `byteIDs[b]`: the id of `<0xXX>` for byte `b` (empty without byte fallback).
    private var byteIDs: [Int32]
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
    /// The id of the empty piece, -1 if there is none (it is never matched, only looked up).
    private let emptyTokenID: Int32
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
        var tokens: [String] = []
        tokens.reserveCapacity(vocabulary.count)
        var scores: [Double] = []
        scores.reserveCapacity(vocabulary.count)
        // The pieces' scalars, concatenated: piece i is scalars[scalarStart[i] ..< scalarStart[i + 1]].
        var scalars: [UInt32] = []
        scalars.reserveCapacity(vocabulary.count * 6)
        var scalarStart: [Int32] = [0]
        scalarStart.reserveCapacity(vocabulary.count + 1)
        var minScore = Double.infinity
        for (index, entry) in vocabulary.enumerated() {
            guard entry.score.isFinite else {
                throw TokenizerError(.invalidVocabulary, file: file, field: "model.vocab[\(index)]",
                                     message: "the score of \(entry.token.debugDescription) is not a finite number")
            }
            tokens.append(entry.token)
            scores.append(entry.score)
            minScore = min(minScore, entry.score)
            for scalar in entry.token.unicodeScalars { scalars.append(scalar.value) }
            guard scalars.count < Int(Int32.max) else {
                throw TokenizerError(.invalidVocabulary, file: file, field: "model.vocab", message: "the Unigram vocabulary is too large")
            }
            scalarStart.append(Int32(scalars.count))
        }
        self.tokens = tokens
        self.scores = scores
        self.unknownID = Int32(unknownID)
        self.byteFallback = byteFallback
        self.unknownScore = minScore - 10.0

        // Sort the pieces by their scalars, then build the trie in one pass over the sorted order: node ids
        // in depth-first order, each node's children in increasing label order.
        var order = Array(0..<Int32(vocabulary.count))
        scalars.withUnsafeBufferPointer { scalars in
            scalarStart.withUnsafeBufferPointer { start in
                order.sort { a, b in
                    var i = Int(start[Int(a)]), j = Int(start[Int(b)])
                    let endA = Int(start[Int(a) + 1]), endB = Int(start[Int(b) + 1])
                    while i < endA && j < endB {
                        if scalars[i] != scalars[j] { return scalars[i] < scalars[j] }
                        i += 1
                        j += 1
                    }
                    if (endA - i) != (endB - j) { return endA - i < endB - j }
                    return a < b
                }
            }
        }
        var nodeTokenID: [Int32] = [-1]
        var emptyTokenID: Int32 = -1
        var edgeParent: [Int32] = []
        var edgeLabelsInOrder: [UInt32] = []
        var path: [Int32] = [0]  // path[d]: the node at depth d of the previous piece
        var previous: Int32 = -1
        for id in order {
            let from = Int(scalarStart[Int(id)]), to = Int(scalarStart[Int(id) + 1])
            var common = 0
            if previous >= 0 {
                let previousFrom = Int(scalarStart[Int(previous)]), previousTo = Int(scalarStart[Int(previous) + 1])
                while common < to - from && common < previousTo - previousFrom
                        && scalars[from + common] == scalars[previousFrom + common] {
                    common += 1
                }
                if common == to - from && common == previousTo - previousFrom {
                    let first = min(id, previous), second = max(id, previous)
                    throw TokenizerError(.invalidVocabulary, file: file, field: "model.vocab[\(second)]",
                                         message: "the piece \(tokens[Int(second)].debugDescription) is already entry \(first)")
                }
            }
            path.removeLast(path.count - 1 - common)
            for depth in common..<(to - from) {
                let node = Int32(nodeTokenID.count)
                nodeTokenID.append(-1)
                edgeParent.append(path[depth])
                edgeLabelsInOrder.append(scalars[from + depth])
                path.append(node)
            }
            if to == from { emptyTokenID = id } else { nodeTokenID[Int(path[to - from])] = id }
            previous = id
        }
        // Group the edges by parent (a stable counting sort keeps each node's labels in increasing order).
        // Edge k leads to node k + 1: nodes were created one per edge, in edge order.
        let nodeCount = nodeTokenID.count
        var edgeStart = [Int32](repeating: 0, count: nodeCount + 1)
        for parent in edgeParent { edgeStart[Int(parent) + 1] += 1 }
        for node in 0..<nodeCount { edgeStart[node + 1] += edgeStart[node] }
        var fill = edgeStart
        var edgeLabel = [UInt32](repeating: 0, count: edgeParent.count)
        var edgeTarget = [Int32](repeating: 0, count: edgeParent.count)
        for (edge, parent) in edgeParent.enumerated() {
            let slot = Int(fill[Int(parent)])
            fill[Int(parent)] += 1
            edgeLabel[slot] = edgeLabelsInOrder[edge]
            edgeTarget[slot] = Int32(edge + 1)
        }
        var rootTable = [Int32](repeating: -1, count: UnigramModel.rootTableSize)
        for slot in Int(edgeStart[0])..<Int(edgeStart[1]) where edgeLabel[slot] < UInt32(UnigramModel.rootTableSize) {
            rootTable[Int(edgeLabel[slot])] = edgeTarget[slot]
        }
        self.edgeStart = edgeStart
        self.edgeLabel = edgeLabel
        self.edgeTarget = edgeTarget
        self.nodeTokenID = nodeTokenID
        self.rootTable = rootTable
        self.emptyTokenID = emptyTokenID
        self.byteIDs = []

        if byteFallback {
            var byteIDs: [Int32] = []
            byteIDs.reserveCapacity(256)
            for byte in 0..<256 {
                let name = UnigramModel.bytePieceName(UInt8(byte))
                guard let id = id(forToken: name) else {
                    throw TokenizerError(.invalidVocabulary, file: file, field: "model.byte_fallback",
                                         message: "byte_fallback is set but the vocabulary has no piece \(name)")
                }
                byteIDs.append(id)
            }
            self.byteIDs = byteIDs
        }
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
    public func id(forToken token: String) -> Int32? {
        var node: Int32 = 0
        for scalar in token.unicodeScalars {
            node = child(node, scalar.value)
            if node < 0 { return nil }
        }
        let id = node == 0 ? emptyTokenID : nodeTokenID[Int(node)]
        return id >= 0 ? id : nil
    }

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
