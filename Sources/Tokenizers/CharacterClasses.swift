/// Character classes and mappings used by the normalizers and pre-tokenizers, decoded once from
/// the generated `UnicodeTables` and `RegexClassTables` (which mirror the Hugging Face `tokenizers` library exactly).
///
/// Scalars are handled as `UInt32` code points throughout.
enum CharacterClasses {
    /// Bit flags per code point.
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt16
        /// Removed by clean_text.
        static let dropped = Flags(rawValue: 1 << 0)
        /// Mapped to a space by clean_text.
        static let cleanWhitespace = Flags(rawValue: 1 << 1)
        /// Nonspacing mark (removed by strip_accents).
        static let nonspacingMark = Flags(rawValue: 1 << 2)
        /// BertPreTokenizer punctuation.
        static let punctuation = Flags(rawValue: 1 << 3)
        /// CJK ideograph (handle_chinese_chars).
        static let chinese = Flags(rawValue: 1 << 4)
        /// Has a canonical decomposition (or is a Hangul syllable).
        static let decomposes = Flags(rawValue: 1 << 5)
        /// Lowercase mapping differs from the scalar itself.
        static let lowercases = Flags(rawValue: 1 << 6)
        /// Rust `char::is_whitespace` (pre-tokenizer whitespace).
        static let whitespace = Flags(rawValue: 1 << 7)
        /// Combining mark (Mn, Mc, Me; removed by the StripAccents normalizer).
        static let combiningMark = Flags(rawValue: 1 << 8)
        /// Oniguruma `\p{L}` (GPT-2 pattern).
        static let letter = Flags(rawValue: 1 << 9)
        /// Oniguruma `\p{N}` (GPT-2 pattern).
        static let number = Flags(rawValue: 1 << 10)
        /// The Whitespace pre-tokenizer's `\w` (Rust regex crate).
        static let word = Flags(rawValue: 1 << 11)
        /// Oniguruma `\s`.
        static let regexWhitespace = Flags(rawValue: 1 << 12)
        /// Rust `char::is_numeric` (Digits pre-tokenizer).
        static let numeric = Flags(rawValue: 1 << 13)
        /// The Whitespace pre-tokenizer's `\s` (Rust regex crate).
        static let wordSpace = Flags(rawValue: 1 << 14)
    }

    /// Flags for every code point 0...0x10FFFF.
    static let flags: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 0x110000)
        func mark(_ data: String, _ flag: Flags) {
            for range in parseRanges(data) {
                for cp in range { table[Int(cp)] |= flag.rawValue }
            }
        }
        mark(UnicodeTables.dropped, .dropped)
        mark(UnicodeTables.whitespace, .cleanWhitespace)
        mark(UnicodeTables.nonspacingMarks, .nonspacingMark)
        mark(UnicodeTables.combiningMarks, .combiningMark)
        mark(UnicodeTables.punctuation, .punctuation)
        mark(UnicodeTables.chinese, .chinese)
        mark(UnicodeTables.unicodeWhitespace, .whitespace)
        mark(RegexClassTables.letters, .letter)
        mark(RegexClassTables.numbers, .number)
        mark(RegexClassTables.wordCharacters, .word)
        mark(RegexClassTables.regexWhitespace, .regexWhitespace)
        mark(RegexClassTables.numeric, .numeric)
        mark(RegexClassTables.wordSpaces, .wordSpace)
        for cp in decompositions.keys { table[Int(cp)] |= Flags.decomposes.rawValue }
        for cp in 0xAC00...0xD7A3 { table[cp] |= Flags.decomposes.rawValue }
        for cp in lowercaseMappings.keys { table[Int(cp)] |= Flags.lowercases.rawValue }
        return table
    }()

    /// Full canonical decompositions (Hangul syllables excluded).
    static let decompositions: [UInt32: [UInt32]] = parseMapping(UnicodeTables.decompositions)

    /// Lowercase mappings (Rust `char::to_lowercase`) for scalars that change.
    static let lowercaseMappings: [UInt32: [UInt32]] = parseMapping(UnicodeTables.lowercase)

    /// Nonzero canonical combining classes.
    static let combiningClasses: [UInt32: UInt8] = {
        var result: [UInt32: UInt8] = [:]
        let text = UnicodeTables.combiningClasses.filter { $0 != "\n" }
        for group in text.split(separator: "|") {
            let parts = group.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let cls = UInt8(parts[0]) else { continue }
            for range in parseRanges(String(parts[1])) {
                for cp in range { result[cp] = cls }
            }
        }
        return result
    }()

    @inline(__always)
    static func flags(of cp: UInt32) -> Flags {
        cp < 0x110000 ? Flags(rawValue: flags[Int(cp)]) : Flags.dropped
    }

    /// Parses "A-B,C,..." (hex) into closed ranges; newlines are ignored.
    static func parseRanges(_ data: String) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        let text = data.filter { $0 != "\n" }
        for item in text.split(separator: ",") {
            let bounds = item.split(separator: "-", maxSplits: 1)
            guard let lower = UInt32(bounds[0], radix: 16) else { continue }
            let upper = bounds.count > 1 ? (UInt32(bounds[1], radix: 16) ?? lower) : lower
            if upper >= lower { result.append(lower...upper) }
        }
        return result
    }

    /// Parses "K:V V;K:V..." (hex) into a dictionary; newlines are ignored.
    static func parseMapping(_ data: String) -> [UInt32: [UInt32]] {
        var result: [UInt32: [UInt32]] = [:]
        let text = data.filter { $0 != "\n" }
        for item in text.split(separator: ";") {
            let parts = item.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let key = UInt32(parts[0], radix: 16) else { continue }
            result[key] = parts[1].split(separator: " ").compactMap { UInt32($0, radix: 16) }
        }
        return result
    }
}
