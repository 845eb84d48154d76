/// The stages of the encoding pipeline, each a faithful port of the corresponding
/// Hugging Face `tokenizers` component. Text is handled as arrays of `Unicode.Scalar`
/// (Rust `char`s), never as Swift `Character`s (grapheme clusters).

// MARK: - Normalizer

/// One elementary normalization step.
enum NormalizerStep: Sendable, Equatable {
    /// BertNormalizer clean_text: drop NUL, U+FFFD and "other" characters, map whitespace to U+0020.
    case cleanText
    /// BertNormalizer handle_chinese_chars: surround CJK ideographs with spaces.
    case chineseChars
    /// Canonical decomposition (NFD).
    case nfd
    /// Remove nonspacing marks (category Mn), as BertNormalizer's strip_accents does after NFD.
    case stripNonspacingMarks
    /// Remove all combining marks (Mn, Mc, Me), as the StripAccents normalizer does.
    case stripCombiningMarks
    /// Rust `char::to_lowercase` for every scalar.
    case lowercase
}

/// A sequence of normalization steps.
struct Normalizer: Sendable, Equatable {
    var steps: [NormalizerStep]

    /// The BertNormalizer; `stripAccents == nil` follows `lowercase` as in Hugging Face.
    static func bert(cleanText: Bool, chineseChars: Bool, stripAccents: Bool?, lowercase: Bool) -> Normalizer {
        var steps: [NormalizerStep] = []
        if cleanText { steps.append(.cleanText) }
        if chineseChars { steps.append(.chineseChars) }
        if stripAccents ?? lowercase { steps += [.nfd, .stripNonspacingMarks] }
        if lowercase { steps.append(.lowercase) }
        return Normalizer(steps: steps)
    }

    func normalize(_ input: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var current = Array(input)
        for step in steps {
            current = Normalizer.apply(step, to: current)
        }
        return current
    }

    @inline(__always)
    private static func scalar(_ cp: UInt32) -> Unicode.Scalar {
        Unicode.Scalar(cp) ?? "\u{FFFD}"
    }

    static func apply(_ step: NormalizerStep, to input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(input.count + input.count / 4)
        switch step {
        case .cleanText:
            for s in input {
                let f = CharacterClasses.flags(of: s.value)
                if f.contains(.dropped) { continue }
                output.append(f.contains(.cleanWhitespace) ? " " : s)
            }
        case .chineseChars:
            for s in input {
                if CharacterClasses.flags(of: s.value).contains(.chinese) {
                    output.append(" ")
                    output.append(s)
                    output.append(" ")
                } else {
                    output.append(s)
                }
            }
        case .nfd:
            for s in input {
                if CharacterClasses.flags(of: s.value).contains(.decomposes) {
                    decompose(s.value, into: &output)
                } else {
                    output.append(s)
                }
            }
            reorderCombiningMarks(&output)
        case .stripNonspacingMarks:
            for s in input where !CharacterClasses.flags(of: s.value).contains(.nonspacingMark) {
                output.append(s)
            }
        case .stripCombiningMarks:
            for s in input where !CharacterClasses.flags(of: s.value).contains(.combiningMark) {
                output.append(s)
            }
        case .lowercase:
            for s in input {
                if CharacterClasses.flags(of: s.value).contains(.lowercases),
                   let mapped = CharacterClasses.lowercaseMappings[s.value] {
                    for cp in mapped { output.append(scalar(cp)) }
                } else {
                    output.append(s)
                }
            }
        }
        return output
    }

    private static func decompose(_ cp: UInt32, into output: inout [Unicode.Scalar]) {
        if (0xAC00...0xD7A3).contains(cp) {
            let s = cp - 0xAC00
            output.append(scalar(0x1100 + s / 588))
            output.append(scalar(0x1161 + (s % 588) / 28))
            if s % 28 != 0 { output.append(scalar(0x11A7 + s % 28)) }
        } else if let parts = CharacterClasses.decompositions[cp] {
            for part in parts { output.append(scalar(part)) }
        } else {
            output.append(scalar(cp))
        }
    }

    /// Canonical ordering: stable sort of every run of scalars with nonzero combining class.
    private static func reorderCombiningMarks(_ scalars: inout [Unicode.Scalar]) {
        let classes = CharacterClasses.combiningClasses
        var i = 0
        while i < scalars.count {
            guard let first = classes[scalars[i].value], first != 0 else { i += 1; continue }
            var end = i + 1
            while end < scalars.count, let c = classes[scalars[end].value], c != 0 { end += 1 }
            if end - i > 1 {
                // Insertion sort keeps equal classes in order (stable).
                for j in (i + 1)..<end {
                    let item = scalars[j]
                    let itemClass = classes[item.value] ?? 0
                    var k = j - 1
                    while k >= i, (classes[scalars[k].value] ?? 0) > itemClass {
                        scalars[k + 1] = scalars[k]
                        k -= 1
                    }
                    scalars[k + 1] = item
                }
            }
            i = end
        }
    }
}

// MARK: - Pre-tokenizer

/// One elementary pre-tokenization step.
enum PreTokenizerStep: Sendable, Equatable {
    /// BertPreTokenizer: split on whitespace (removed) and isolate every punctuation scalar.
    case bert
    /// WhitespaceSplit: split on whitespace (removed).
    case whitespaceSplit
}

/// A sequence of pre-tokenization steps producing word ranges.
struct PreTokenizer: Sendable, Equatable {
    var steps: [PreTokenizerStep]

    /// Splits `text` into words, as ranges of indices into `text`.
    func split(_ text: [Unicode.Scalar]) -> [Range<Int>] {
        guard !steps.isEmpty else { return text.isEmpty ? [] : [0..<text.count] }
        var words: [Range<Int>] = [0..<text.count]
        for step in steps {
            var next: [Range<Int>] = []
            next.reserveCapacity(words.count * 2)
            for word in words {
                var start = word.lowerBound
                for i in word {
                    let f = CharacterClasses.flags(of: text[i].value)
                    if f.contains(.whitespace) {
                        if start < i { next.append(start..<i) }
                        start = i + 1
                    } else if step == .bert && f.contains(.punctuation) {
                        if start < i { next.append(start..<i) }
                        next.append(i..<(i + 1))
                        start = i + 1
                    }
                }
                if start < word.upperBound { next.append(start..<word.upperBound) }
            }
            words = next
        }
        return words
    }
}

// MARK: - WordPiece

/// The WordPiece model: greedy longest-match-first over a vocabulary.
struct WordPiece: Sendable {
    var vocabulary: [String: Int32]
    var unknownTokenID: Int32
    var continuingSubwordPrefix: String
    var maxInputCharsPerWord: Int
    /// The longest vocabulary entry in scalars: no longer candidate can match.
    var longestTokenScalars: Int

    init(vocabulary: [String: Int32], unknownTokenID: Int32, continuingSubwordPrefix: String, maxInputCharsPerWord: Int) {
        self.vocabulary = vocabulary
        self.unknownTokenID = unknownTokenID
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var longest = 0
        for token in vocabulary.keys {
            longest = max(longest, token.unicodeScalars.count)
        }
        self.longestTokenScalars = longest
    }

    /// Appends the ids of the word `text[range]` to `ids`.
    func tokenize(_ text: [Unicode.Scalar], _ range: Range<Int>, into ids: inout [Int32]) {
        let count = range.count
        guard count > 0 else { return }
        if count > maxInputCharsPerWord {
            ids.append(unknownTokenID)
            return
        }
        let mark = ids.count
        var start = range.lowerBound
        var candidate = ""
        candidate.reserveCapacity(4 * min(count, longestTokenScalars) + continuingSubwordPrefix.utf8.count)
        while start < range.upperBound {
            var end = min(range.upperBound, start + longestTokenScalars)
            var found: Int32?
            while start < end {
                candidate.removeAll(keepingCapacity: true)
                if start > range.lowerBound { candidate += continuingSubwordPrefix }
                candidate.unicodeScalars.append(contentsOf: text[start..<end])
                if let id = vocabulary[candidate] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.removeSubrange(mark...)
                ids.append(unknownTokenID)
                return
            }
            ids.append(id)
            start = end
        }
    }
}

// MARK: - Added tokens

/// A token matched in the text before (or, if `normalized`, after) normalization.
struct AddedToken: Sendable, Equatable {
    var id: Int32
    var content: [Unicode.Scalar]
    var singleWord: Bool
    var leftStrip: Bool
    var rightStrip: Bool
    var normalized: Bool
}

/// Finds added tokens in a text, leftmost-longest, as the `tokenizers` AddedVocabulary does.
struct AddedTokenMatcher: Sendable {
    var tokens: [AddedToken]
    private var firstScalars: Set<UInt32>

    init(tokens: [AddedToken]) {
        self.tokens = tokens.filter { !$0.content.isEmpty }
        self.firstScalars = Set(self.tokens.map { $0.content[0].value })
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// A piece of the text: either plain text (to be normalized and tokenized) or an added token.
    enum Piece {
        case text(Range<Int>)
        case token(Int32)
    }

    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil
            || s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .spacingMark
            || s.properties.generalCategory == .enclosingMark || s.properties.generalCategory == .connectorPunctuation
    }

    /// Splits `text[range]` into plain-text pieces and added tokens.
    func split(_ text: [Unicode.Scalar], _ range: Range<Int>) -> [Piece] {
        if tokens.isEmpty { return range.isEmpty ? [] : [.text(range)] }
        var pieces: [Piece] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            guard firstScalars.contains(text[i].value) else { i += 1; continue }
            var best: AddedToken?
            for token in tokens where token.content.count > (best?.content.count ?? 0) {
                let end = i + token.content.count
                guard end <= range.upperBound, text[i..<end].elementsEqual(token.content) else { continue }
                if token.singleWord {
                    if i > range.lowerBound && AddedTokenMatcher.isWordScalar(text[i - 1]) { continue }
                    if end < range.upperBound && AddedTokenMatcher.isWordScalar(text[end]) { continue }
                }
                best = token
            }
            guard let token = best else { i += 1; continue }
            var matchStart = i
            var matchEnd = i + token.content.count
            if token.leftStrip {
                while matchStart > textStart,
                      CharacterClasses.flags(of: text[matchStart - 1].value).contains(.whitespace) {
                    matchStart -= 1
                }
            }
            if token.rightStrip {
                while matchEnd < range.upperBound,
                      CharacterClasses.flags(of: text[matchEnd].value).contains(.whitespace) {
                    matchEnd += 1
                }
            }
            if textStart < matchStart { pieces.append(.text(textStart..<matchStart)) }
            pieces.append(.token(token.id))
            textStart = matchEnd
            i = matchEnd
        }
        if textStart < range.upperBound { pieces.append(.text(textStart..<range.upperBound)) }
        return pieces
    }
}

// MARK: - Post-processor

/// One element of a post-processing template.
enum TemplatePiece: Sendable, Equatable {
    /// Special token ids with their type id.
    case special(ids: [Int32], typeID: Int32)
    /// The first sequence (`$A`) with its type id.
    case sequenceA(typeID: Int32)
    /// The second sequence (`$B`) with its type id.
    case sequenceB(typeID: Int32)
}

/// Adds special tokens around one or two sequences (TemplateProcessing / BertProcessing).
struct PostProcessor: Sendable, Equatable {
    var single: [TemplatePiece]
    var pair: [TemplatePiece]

    /// No special tokens; the second sequence gets type id 1.
    static let none = PostProcessor(single: [.sequenceA(typeID: 0)], pair: [.sequenceA(typeID: 0), .sequenceB(typeID: 1)])

    /// `[CLS] $A [SEP]` and `[CLS] $A [SEP] $B:1 [SEP]:1`.
    static func bert(cls: Int32, sep: Int32) -> PostProcessor {
        PostProcessor(
            single: [.special(ids: [cls], typeID: 0), .sequenceA(typeID: 0), .special(ids: [sep], typeID: 0)],
            pair: [.special(ids: [cls], typeID: 0), .sequenceA(typeID: 0), .special(ids: [sep], typeID: 0),
                   .sequenceB(typeID: 1), .special(ids: [sep], typeID: 1)])
    }

    static func specialCount(_ template: [TemplatePiece]) -> Int {
        template.reduce(0) { total, piece in
            if case .special(let ids, _) = piece { return total + ids.count }
            return total
        }
    }

    func apply(_ template: [TemplatePiece], a: [Int32], b: [Int32]) -> (ids: [Int32], types: [Int32]) {
        var ids: [Int32] = []
        var types: [Int32] = []
        ids.reserveCapacity(a.count + b.count + PostProcessor.specialCount(template))
        types.reserveCapacity(ids.capacity)
        for piece in template {
            switch piece {
            case .special(let specialIDs, let typeID):
                ids += specialIDs
                types += repeatElement(typeID, count: specialIDs.count)
            case .sequenceA(let typeID):
                ids += a
                types += repeatElement(typeID, count: a.count)
            case .sequenceB(let typeID):
                ids += b
                types += repeatElement(typeID, count: b.count)
            }
        }
        return (ids, types)
    }
}
