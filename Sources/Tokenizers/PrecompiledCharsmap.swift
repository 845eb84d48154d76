/// The `Precompiled` normalizer of Hugging Face `tokenizers` (the `spm_precompiled` crate): SentencePiece's
/// compiled normalization rules (`nmt_nfkc` and the like), stored base64-encoded in `precompiled_charsmap`.
///
/// The blob is `[trie size: UInt32 little-endian][trie: size / 4 UInt32 units][replacements: UTF-8]`.
/// The trie is a darts-clone double array over UTF-8 bytes; a key's value is the byte offset of its
/// replacement, which runs to the next NUL (or the end of the blob).
///
/// Normalization follows Hugging Face exactly, oddities included: the text is split into extended
/// grapheme clusters; a cluster shorter than 6 UTF-8 bytes is replaced whole by the replacement of the
/// *first* (shortest) trie key that is a prefix of it, if any; otherwise each of its scalars is replaced
/// by the replacement of the first key that is a prefix of that scalar, or kept.
///
/// Every reachable trie entry is checked when the map is loaded (offsets inside the blob, replacements
/// starting on a UTF-8 boundary), and every lookup is bounds-checked, so no blob can make a lookup read
/// outside the map.
public struct PrecompiledCharsmap: Sendable {
    /// The double array.
    private let units: [UInt32]
    /// The replacement strings, NUL-separated UTF-8.
    private let replacements: [UInt8]
    /// Position of the root's children (the root unit's offset).
    private let rootBase: Int
    /// The first-match replacement offset of each scalar below U+10000 looked up alone (-1: none).
    private var singleScalarTable: [Int32]

    /// Decodes and checks a `precompiled_charsmap`.
    /// - Parameters:
    ///   - base64: The field's value (standard alphabet, padded, as Hugging Face requires).
    ///   - file: The path named in errors.
    ///   - field: The field path named in errors (for example `normalizer.normalizers[0].precompiled_charsmap`).
    /// - Throws: ``TokenizerError`` `.invalidField` for invalid base64 or an inconsistent or truncated map.
    public init(base64: String, file: String, field: String) throws(TokenizerError) {
        guard let blob = PrecompiledCharsmap.decodeBase64(base64) else {
            throw TokenizerError(.invalidField, file: file, field: field, message: "not valid base64 (standard alphabet with padding)")
        }
        try self.init(blob: blob, file: file, field: field)
    }

    /// Checks a decoded `precompiled_charsmap` blob.
    init(blob: [UInt8], file: String, field: String) throws(TokenizerError) {
        func fail(_ message: String) -> TokenizerError {
            TokenizerError(.invalidField, file: file, field: field, message: "precompiled charsmap: " + message)
        }
        guard blob.count >= 4 else { throw fail("\(blob.count) bytes, too short for the trie size") }
        let trieSize = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        guard trieSize % 4 == 0 else { throw fail("trie size \(trieSize) is not a multiple of 4") }
        guard trieSize >= 4 else { throw fail("the trie is empty") }
        guard trieSize <= blob.count - 4 else {
            throw fail("trie size \(trieSize) exceeds the \(blob.count - 4) bytes after it")
        }
        var units: [UInt32] = []
        units.reserveCapacity(trieSize / 4)
        var position = 4
        while position < 4 + trieSize {
            units.append(UInt32(blob[position]) | UInt32(blob[position + 1]) << 8
                         | UInt32(blob[position + 2]) << 16 | UInt32(blob[position + 3]) << 24)
            position += 4
        }
        let replacements = Array(blob[(4 + trieSize)...])
        guard PrecompiledCharsmap.isValidUTF8(replacements) else { throw fail("the replacement strings are not valid UTF-8") }
        self.units = units
        self.replacements = replacements
        self.rootBase = PrecompiledCharsmap.offset(units[0])
        self.singleScalarTable = []

        // Visit every node reachable from the root and check its value. On the way, keys of up to 3 bytes
        // fill the per-scalar table: a scalar's entry is the first leaf on its UTF-8 path.
        var table = [Int32](repeating: -1, count: 0x10000)
        var visited = [Bool](repeating: false, count: units.count)
        var sharedNodes = false
        var stack = [(base: rootBase, depth: 0, key: UInt32(0), shadowed: false)]
        while let node = stack.popLast() {
            for label in 1...255 {
                let position = node.base ^ label
                guard position < units.count else { continue }
                let unit = units[position]
                guard PrecompiledCharsmap.label(unit) == UInt32(label) else { continue }
                guard !visited[position] else {
                    sharedNodes = true  // Not a tree: reached by two keys. Only a corrupt map does this.
                    continue
                }
                visited[position] = true
                let childBase = position ^ PrecompiledCharsmap.offset(unit)
                let key = node.depth < 3 ? node.key << 8 | UInt32(label) : 0
                var shadowed = node.shadowed
                if PrecompiledCharsmap.hasLeaf(unit) {
                    guard childBase < units.count else {
                        throw fail("a trie leaf at unit \(childBase) lies beyond the \(units.count) units")
                    }
                    let value = Int(units[childBase] & 0x7FFF_FFFF)
                    guard value <= replacements.count else {
                        throw fail("a replacement offset \(value) lies beyond the \(replacements.count) bytes of replacements")
                    }
                    guard value == replacements.count || replacements[value] & 0xC0 != 0x80 else {
                        throw fail("the replacement offset \(value) is inside a UTF-8 sequence")
                    }
                    if !shadowed && node.depth < 3 {
                        PrecompiledCharsmap.fill(&table, key: key, length: node.depth + 1, value: Int32(value))
                    }
                    shadowed = true
                }
                stack.append((childBase, node.depth + 1, key, shadowed))
            }
        }
        if sharedNodes {
            // Recompute the table by lookups, which is what the table must agree with.
            for value in 0..<0x10000 {
                if let scalar = Unicode.Scalar(UInt32(value)), let offset = firstMatch(CollectionOfOne(scalar)) {
                    table[value] = Int32(offset)
                } else {
                    table[value] = -1
                }
            }
        }
        self.singleScalarTable = table
    }

    /// Sets `table[v] = value` for every scalar v below U+10000 whose UTF-8 starts with the `length` bytes
    /// of `key` (most significant byte first).
    private static func fill(_ table: inout [Int32], key: UInt32, length: Int, value: Int32) {
        let lead = key >> (8 * UInt32(length - 1))
        var low: UInt32, high: UInt32
        switch lead {
        case 0x01...0x7F: low = lead; high = lead
        case 0xC2...0xDF: low = (lead & 0x1F) << 6; high = low | 0x3F
        case 0xE0...0xEF: low = (lead & 0x0F) << 12; high = low | 0xFFF
        default: return  // A continuation byte, an invalid lead or a 4-byte lead: no scalar below U+10000.
        }
        // Narrow by the continuation bytes, then check each candidate's encoding really starts with the key.
        if length >= 2 {
            let second = (key >> (8 * UInt32(length - 2))) & 0xFF
            guard second & 0xC0 == 0x80, lead >= 0xC2 else { return }
            if lead >= 0xE0 {
                low |= (second & 0x3F) << 6
                high = low | 0x3F
            } else {
                low |= second & 0x3F
                high = low
            }
        }
        if length == 3 {
            let third = key & 0xFF
            guard third & 0xC0 == 0x80, lead >= 0xE0 else { return }
            low |= third & 0x3F
            high = low
        }
        for candidate in low...high {
            guard Unicode.Scalar(candidate) != nil else { continue }
            var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0))
            let count = encode(candidate, into: &bytes)
            guard count >= length else { continue }
            var prefix = UInt32(bytes.0)
            if length >= 2 { prefix = prefix << 8 | UInt32(bytes.1) }
            if length >= 3 { prefix = prefix << 8 | UInt32(bytes.2) }
            if prefix == key { table[Int(candidate)] = value }
        }
    }

    // MARK: darts-clone units

    @inline(__always) private static func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
    @inline(__always) private static func label(_ unit: UInt32) -> UInt32 { unit & (0x8000_0000 | 0xFF) }
    @inline(__always) private static func offset(_ unit: UInt32) -> Int { Int(unit >> 10) << Int((unit & (1 << 9)) >> 6) }

    /// Follows one byte from the node whose children start at `base`; returns the child's base and its
    /// value (-1 if it is not a key), or `nil` if there is no such child.
    @inline(__always)
    private func step(_ base: Int, _ byte: UInt8) -> (base: Int, value: Int)? {
        let position = base ^ Int(byte)
        guard position < units.count else { return nil }
        let unit = units[position]
        guard PrecompiledCharsmap.label(unit) == UInt32(byte) else { return nil }
        let childBase = position ^ PrecompiledCharsmap.offset(unit)
        guard PrecompiledCharsmap.hasLeaf(unit) else { return (childBase, -1) }
        guard childBase < units.count else { return nil }
        return (childBase, Int(units[childBase] & 0x7FFF_FFFF))
    }

    /// The replacement offset of the first (shortest) key that is a prefix of the UTF-8 of `scalars`.
    @inline(__always)
    private func firstMatch<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> Int? {
        var base = rootBase
        for scalar in scalars {
            var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0))
            let count = PrecompiledCharsmap.encode(scalar.value, into: &bytes)
            for index in 0..<count {
                let byte: UInt8
                switch index {
                case 0: byte = bytes.0
                case 1: byte = bytes.1
                case 2: byte = bytes.2
                default: byte = bytes.3
                }
                if byte == 0 { return nil }  // The search stops at a NUL byte.
                guard let next = step(base, byte) else { return nil }
                if next.value >= 0 { return next.value }
                base = next.base
            }
        }
        return nil
    }

    @inline(__always)
    private static func encode(_ value: UInt32, into bytes: inout (UInt8, UInt8, UInt8, UInt8)) -> Int {
        if value < 0x80 {
            bytes.0 = UInt8(value)
            return 1
        } else if value < 0x800 {
            bytes.0 = UInt8(0xC0 | (value >> 6))
            bytes.1 = UInt8(0x80 | (value & 0x3F))
            return 2
        } else if value < 0x10000 {
            bytes.0 = UInt8(0xE0 | (value >> 12))
            bytes.1 = UInt8(0x80 | ((value >> 6) & 0x3F))
            bytes.2 = UInt8(0x80 | (value & 0x3F))
            return 3
        } else {
            bytes.0 = UInt8(0xF0 | (value >> 18))
            bytes.1 = UInt8(0x80 | ((value >> 12) & 0x3F))
            bytes.2 = UInt8(0x80 | ((value >> 6) & 0x3F))
            bytes.3 = UInt8(0x80 | (value & 0x3F))
            return 4
        }
    }

    /// Appends the replacement starting at byte `offset` (up to the next NUL) to `output`.
    private func appendReplacement(at offset: Int, to output: inout [Unicode.Scalar]) {
        var index = offset
        let count = replacements.count
        while index < count {
            let lead = UInt32(replacements[index])
            if lead == 0 { return }
            var value: UInt32
            var length: Int
            if lead < 0x80 { value = lead; length = 1 }
            else if lead < 0xE0 { value = lead & 0x1F; length = 2 }
            else if lead < 0xF0 { value = lead & 0x0F; length = 3 }
            else { value = lead & 0x07; length = 4 }
            guard index + length <= count else { return }  // Cannot happen: the blob is valid UTF-8.
            for k in 1..<max(length, 1) { value = value << 6 | UInt32(replacements[index + k] & 0x3F) }
            output.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            index += length
        }
    }

    /// Normalizes text as Hugging Face's `Precompiled` normalizer does.
    ///
    /// Grapheme clusters are found with Swift's `Character` segmentation, but only inside stretches that can
    /// hold a multi-scalar cluster: between two ``isAlwaysAlone(_:)`` scalars there is always a boundary, so
    /// plain Latin, CJK or kana text is looked up one scalar at a time without building a `String`.
    /// - Parameter input: The text's scalars.
    /// - Returns: The normalized scalars.
    public func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(input.count + input.count / 8 + 4)
        let count = input.count
        var index = 0
        while index < count {
            let scalar = input[index]
            if PrecompiledCharsmap.isAlwaysAlone(scalar.value)
                && (index + 1 == count || PrecompiledCharsmap.isAlwaysAlone(input[index + 1].value)) {
                appendSingle(scalar, to: &output)
                index += 1
                continue
            }
            // A stretch that ends at a certain boundary: two always-alone scalars in a row, or the end.
            var end = index + 1
            while end < count && !(PrecompiledCharsmap.isAlwaysAlone(input[end - 1].value)
                                   && PrecompiledCharsmap.isAlwaysAlone(input[end].value)) {
                end += 1
            }
            var stretch = String()
            stretch.unicodeScalars.append(contentsOf: input[index..<end])
            for cluster in stretch {
                let scalars = cluster.unicodeScalars
                if scalars.count > 1 && cluster.utf8.count < 6, let offset = firstMatch(scalars) {
                    appendReplacement(at: offset, to: &output)
                    continue
                }
                for scalar in scalars { appendSingle(scalar, to: &output) }
            }
            index = end
        }
        return output
    }

    /// Appends the replacement of one scalar, or the scalar itself.
    @inline(__always)
    private func appendSingle(_ scalar: Unicode.Scalar, to output: inout [Unicode.Scalar]) {
        let value = scalar.value
        let offset: Int
        if value < UInt32(singleScalarTable.count) {
            offset = Int(singleScalarTable[Int(value)])
        } else {
            offset = firstMatch(CollectionOfOne(scalar)) ?? -1
        }
        if offset < 0 {
            output.append(scalar)
        } else {
            appendReplacement(at: offset, to: &output)
        }
    }

    /// Whether a scalar is a grapheme cluster of its own whatever surrounds it, as long as its neighbour
    /// is one too: Grapheme_Cluster_Break `Other`/`Control`/`LF` scalars of blocks without extenders,
    /// prepend characters, Hangul jamo or regional indicators (below U+0300 but CR, Greek, Cyrillic
    /// without its combining marks, kana and CJK ideographs).
    @inline(__always)
    static func isAlwaysAlone(_ value: UInt32) -> Bool {
        if value < 0x300 { return value != 0x0D }
        if value >= 0x4E00 && value <= 0x9FFF { return true }
        if value >= 0x370 && value <= 0x482 { return true }
        if value >= 0x48A && value <= 0x52F { return true }
        if value >= 0x3041 && value <= 0x3096 { return true }
        if value >= 0x30A1 && value <= 0x30FA { return true }
        return false
    }

    // MARK: decoding

    /// Strict standard base64 (`A–Z a–z 0–9 + /`, `=` padding to a multiple of 4, zero trailing bits), as
    /// the Rust `base64` crate's `STANDARD` engine decodes it.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count / 4 * 3)
        func sextet(_ c: UInt8) -> UInt32? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): return 62
            case UInt8(ascii: "/"): return 63
            default: return nil
            }
        }
        var index = 0
        while index < bytes.count {
            let last = index + 4 == bytes.count
            let padding = last ? (bytes[index + 3] == UInt8(ascii: "=") ? (bytes[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var group: UInt32 = 0
            for k in 0..<4 {
                if k >= 4 - padding {
                    group <<= 6
                    continue
                }
                guard let value = sextet(bytes[index + k]) else { return nil }
                group = group << 6 | value
            }
            output.append(UInt8(group >> 16))
            if padding < 2 { output.append(UInt8((group >> 8) & 0xFF)) } else if (group >> 8) & 0xFF != 0 { return nil }
            if padding < 1 { output.append(UInt8(group & 0xFF)) } else if group & 0xFF != 0 { return nil }
            index += 4
        }
        return output
    }

    /// Whether `bytes` are well-formed UTF-8 (no overlong forms, surrogates or values above U+10FFFF).
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            guard bytes[index + 1] >= low && bytes[index + 1] <= high else { return false }
            for k in 2..<max(length, 2) where !(0x80...0xBF).contains(bytes[index + k]) { return false }
            index += length
        }
        return true
    }
}
