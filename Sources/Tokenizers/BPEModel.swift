/// The BPE model of Hugging Face `tokenizers`: a word's characters (with `continuing_subword_prefix`
/// and `end_of_word_suffix`) merged pair by pair, lowest merge rank first (leftmost on ties), exactly as
/// `Word::merge_all` does with its priority queue. `dropout` is training-only and ignored.
struct BPEModel: Sendable {
    /// A merge of two adjacent ids: its rank (lower merges first) and the id it produces.
    struct Merge: Sendable {
        var rank: Int32
        var newID: Int32
    }

    let vocabulary: Vocabulary
    /// `(left << 32) | right` -> merge.
    let merges: [UInt64: Merge]
    let unknownTokenID: Int32?
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// Ids of single-scalar tokens (no prefix/suffix), the common case of a word's first symbols.
    private let scalarIDs: [UInt32: Int32]
    /// `<0x00>`…`<0xFF>` ids when all exist (byte fallback).
    private let byteIDs: [Int32]?

    init(vocabulary: Vocabulary, merges: [UInt64: Merge], unknownTokenID: Int32?, continuingSubwordPrefix: String?,
         endOfWordSuffix: String?, fuseUnknown: Bool, byteFallback: Bool, ignoreMerges: Bool) {
        self.vocabulary = vocabulary
        self.merges = merges
        self.unknownTokenID = unknownTokenID
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        var scalarIDs: [UInt32: Int32] = [:]
        for (token, id) in vocabulary {
            let scalars = token.unicodeScalars
            if scalars.count == 1, let first = scalars.first { scalarIDs[first.value] = id }
        }
        self.scalarIDs = scalarIDs
        var bytes: [Int32] = []
        for byte in 0..<256 {
            guard let id = vocabulary[BPEModel.byteToken(UInt8(byte))] else { break }
            bytes.append(id)
        }
        self.byteIDs = bytes.count == 256 ? bytes : nil
    }

    /// `<0x0A>`: the byte-fallback token of a byte.
    static func byteToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    private struct Symbol {
        var id: Int32
        var previous: Int32
        var next: Int32
        var removed: Bool
    }

    /// Appends the ids of the word `text[range]` to `ids`.
    func tokenize(_ text: [Unicode.Scalar], _ range: Range<Int>, into ids: inout [Int32]) {
        guard !range.isEmpty else { return }
        if ignoreMerges {
            var word = String.UnicodeScalarView()
            word.append(contentsOf: text[range])
            if let id = vocabulary[String(word)] {
                ids.append(id)
                return
            }
        }
        // Initial symbols (Word::merge_word).
        var symbols: [Symbol] = []
        symbols.reserveCapacity(range.count)
        var pendingUnknown = false
        func add(_ id: Int32) {
            let index = Int32(symbols.count)
            symbols.append(Symbol(id: id, previous: index - 1, next: index + 1, removed: false))
        }
        let plain = continuingSubwordPrefix == nil && endOfWordSuffix == nil
        for i in range {
            let isFirst = i == range.lowerBound
            let isLast = i == range.upperBound - 1
            var found: Int32?
            var piece: String?
            if plain || ((isFirst || continuingSubwordPrefix == nil) && (!isLast || endOfWordSuffix == nil)) {
                found = scalarIDs[text[i].value]
            } else {
                var s = ""
                if !isFirst, let prefix = continuingSubwordPrefix { s += prefix }
                s.unicodeScalars.append(text[i])
                if isLast, let suffix = endOfWordSuffix { s += suffix }
                found = vocabulary[s]
                piece = s
            }
            if let id = found {
                if pendingUnknown, let unknown = unknownTokenID { add(unknown) }
                pendingUnknown = false
                add(id)
                continue
            }
            if byteFallback, let byteIDs {
                if pendingUnknown, let unknown = unknownTokenID { add(unknown) }
                pendingUnknown = false
                if let piece {
                    for byte in piece.utf8 { add(byteIDs[Int(byte)]) }
                } else {
                    for byte in String(Character(text[i])).utf8 { add(byteIDs[Int(byte)]) }
                }
                continue
            }
            guard let unknown = unknownTokenID else { continue }
            if pendingUnknown && !fuseUnknown { add(unknown) }
            pendingUnknown = true
        }
        if pendingUnknown, let unknown = unknownTokenID { add(unknown) }
        guard !symbols.isEmpty else { return }
        symbols[symbols.count - 1].next = -1

        // Word::merge_all: a min-heap of (rank, position).
        var heap = MergeHeap()
        for index in 0..<(symbols.count - 1) {
            if let merge = merges[BPEModel.key(symbols[index].id, symbols[index + 1].id)] {
                heap.push(rank: merge.rank, position: Int32(index), newID: merge.newID)
            }
        }
        while let top = heap.pop() {
            let position = Int(top.position)
            guard !symbols[position].removed, symbols[position].next >= 0 else { continue }
            let nextPosition = Int(symbols[position].next)
            let right = symbols[nextPosition]
            guard let current = merges[BPEModel.key(symbols[position].id, right.id)], current.newID == top.newID else { continue }
            symbols[position].id = top.newID
            symbols[position].next = right.next
            symbols[nextPosition].removed = true
            if right.next >= 0 { symbols[Int(right.next)].previous = Int32(position) }
            let previous = symbols[position].previous
            if previous >= 0, let merge = merges[BPEModel.key(symbols[Int(previous)].id, top.newID)] {
                heap.push(rank: merge.rank, position: previous, newID: merge.newID)
            }
            let next = symbols[position].next
            if next >= 0, let merge = merges[BPEModel.key(top.newID, symbols[Int(next)].id)] {
                heap.push(rank: merge.rank, position: Int32(position), newID: merge.newID)
            }
        }
        for symbol in symbols where !symbol.removed { ids.append(symbol.id) }
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        (UInt64(UInt32(bitPattern: left)) << 32) | UInt64(UInt32(bitPattern: right))
    }
}

/// A binary min-heap of pending merges ordered by rank, then position.
private struct MergeHeap {
    struct Entry {
        var rank: Int32
        var position: Int32
        var newID: Int32
        @inline(__always) func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }
    private var entries: [Entry] = []

    mutating func push(rank: Int32, position: Int32, newID: Int32) {
        entries.append(Entry(rank: rank, position: position, newID: newID))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < entries.count && entries[left].precedes(entries[best]) { best = left }
                if right < entries.count && entries[right].precedes(entries[best]) { best = right }
                if best == parent { break }
                entries.swapAt(parent, best)
                parent = best
            }
        }
        return first
    }
}
