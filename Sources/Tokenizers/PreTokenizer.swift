/// The pre-tokenizer stage: a faithful port of the Hugging Face `tokenizers` pre-tokenizers. A text
/// is split into words (ranges into a scalar buffer); ByteLevel and Metaspace also rewrite the scalars.

/// How the matches of a split pattern are kept (`behavior` in tokenizer.json).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// Applies the behavior to alternating `(range, isMatch)` pieces covering a word; drops empty results.
    func apply(_ pieces: [(range: Range<Int>, isMatch: Bool)], into output: inout [Range<Int>]) {
        switch self {
        case .removed:
            for piece in pieces where !piece.isMatch && !piece.range.isEmpty { output.append(piece.range) }
        case .isolated:
            for piece in pieces where !piece.range.isEmpty { output.append(piece.range) }
        case .mergedWithPrevious:
            var result: [Range<Int>] = []
            var previousMatch = false
            for piece in pieces {
                if piece.isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    result.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            output += result.filter { !$0.isEmpty }
        case .mergedWithNext:
            var result: [Range<Int>] = []
            var previousMatch = false
            for piece in pieces.reversed() {
                if piece.isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = piece.range.lowerBound..<last.upperBound
                } else {
                    result.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            output += result.reversed().filter { !$0.isEmpty }
        case .contiguous:
            var result: [Range<Int>] = []
            var previousMatch = false
            for piece in pieces {
                if piece.isMatch == previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<piece.range.upperBound
                } else {
                    result.append(piece.range)
                }
                previousMatch = piece.isMatch
            }
            output += result.filter { !$0.isEmpty }
        }
    }

    /// Pieces of `word` where every scalar satisfying `isMatch` is a match of its own.
    static func scalarMatches(_ text: [Unicode.Scalar], _ word: Range<Int>,
                              _ isMatch: (Unicode.Scalar) -> Bool) -> [(range: Range<Int>, isMatch: Bool)] {
        var pieces: [(range: Range<Int>, isMatch: Bool)] = []
        var last = word.lowerBound
        for i in word where isMatch(text[i]) {
            if last < i { pieces.append((last..<i, false)) }
            pieces.append((i..<(i + 1), true))
            last = i + 1
        }
        if last < word.upperBound { pieces.append((last..<word.upperBound, false)) }
        return pieces
    }
}

/// Metaspace's `prepend_scheme`.
enum PrependScheme: String, Sendable {
    case always, first, never
}

/// One elementary pre-tokenization step.
enum PreTokenizerStep: Sendable {
    /// BertPreTokenizer: split on whitespace (removed) and isolate every punctuation scalar.
    case bert
    /// WhitespaceSplit: split on whitespace (removed).
    case whitespaceSplit
    /// Whitespace: the words of `\w+|[^\w\s]+`.
    case whitespace
    /// Punctuation: punctuation scalars with the given behavior.
    case punctuation(SplitBehavior)
    /// Digits: numeric scalars isolated one by one, or contiguous runs.
    case digits(individual: Bool)
    /// Split: matches of a pattern (inverted: the gaps are the matches) with the given behavior.
    case split(TextPattern, SplitBehavior, invert: Bool)
    /// Metaspace: spaces become `replacement`, which may be prepended and may start words.
    case metaspace(replacement: Unicode.Scalar, prepend: PrependScheme, split: Bool)
    /// ByteLevel: optional prefix space, GPT-2 splitting, then every UTF-8 byte as its GPT-2 character.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
}

/// A sequence of pre-tokenization steps producing words.
struct PreTokenizer: Sendable {
    var steps: [PreTokenizerStep]

    /// Splits `text` into words: ranges into the returned buffer (`text` itself unless a step rewrites it).
    /// - Parameter startsText: whether `text` begins the input (Metaspace's `prepend_scheme: first`).
    func split(_ text: [Unicode.Scalar], startsText: Bool = true) -> (scalars: [Unicode.Scalar], words: [Range<Int>]) {
        guard !steps.isEmpty else { return (text, text.isEmpty ? [] : [0..<text.count]) }
        var scalars = text
        var words: [Range<Int>] = text.isEmpty ? [] : [0..<text.count]
        for step in steps {
            var next: [Range<Int>] = []
            next.reserveCapacity(words.count * 2 + 1)
            switch step {
            case .bert, .whitespaceSplit:
                let isolatePunctuation: Bool
                if case .bert = step { isolatePunctuation = true } else { isolatePunctuation = false }
                for word in words {
                    var start = word.lowerBound
                    for i in word {
                        let f = CharacterClasses.flags(of: scalars[i].value)
                        if f.contains(.whitespace) {
                            if start < i { next.append(start..<i) }
                            start = i + 1
                        } else if isolatePunctuation && f.contains(.punctuation) {
                            if start < i { next.append(start..<i) }
                            next.append(i..<(i + 1))
                            start = i + 1
                        }
                    }
                    if start < word.upperBound { next.append(start..<word.upperBound) }
                }
            case .whitespace:
                // Runs of \w, runs of [^\w\s]; \s removed.
                for word in words {
                    var start = word.lowerBound
                    var runClass = 0  // 0: none, 1: word, 2: other
                    for i in word {
                        let f = CharacterClasses.flags(of: scalars[i].value)
                        let cls = f.contains(.word) ? 1 : (f.contains(.wordSpace) ? 0 : 2)
                        if cls != runClass {
                            if runClass != 0 && start < i { next.append(start..<i) }
                            start = i
                            runClass = cls
                        }
                    }
                    if runClass != 0 && start < word.upperBound { next.append(start..<word.upperBound) }
                }
            case .punctuation(let behavior):
                for word in words {
                    behavior.apply(SplitBehavior.scalarMatches(scalars, word) {
                        CharacterClasses.flags(of: $0.value).contains(.punctuation)
                    }, into: &next)
                }
            case .digits(let individual):
                for word in words {
                    (individual ? SplitBehavior.isolated : .contiguous).apply(SplitBehavior.scalarMatches(scalars, word) {
                        CharacterClasses.flags(of: $0.value).contains(.numeric)
                    }, into: &next)
                }
            case .split(let pattern, let behavior, let invert):
                for word in words {
                    var pieces: [(range: Range<Int>, isMatch: Bool)] = []
                    var last = word.lowerBound
                    for match in pattern.matches(in: scalars[word]) {
                        let range = (match.lowerBound + word.lowerBound)..<(match.upperBound + word.lowerBound)
                        if last < range.lowerBound { pieces.append((last..<range.lowerBound, invert)) }
                        pieces.append((range, !invert))
                        last = range.upperBound
                    }
                    if last < word.upperBound { pieces.append((last..<word.upperBound, invert)) }
                    behavior.apply(pieces, into: &next)
                }
            case .metaspace(let replacement, let prepend, let splitWords):
                var rewritten: [Unicode.Scalar] = []
                rewritten.reserveCapacity(scalars.count + words.count)
                for word in words {
                    let start = rewritten.count
                    let needsPrefix: Bool
                    switch prepend {
                    case .always: needsPrefix = true
                    case .first: needsPrefix = startsText && word.lowerBound == 0
                    case .never: needsPrefix = false
                    }
                    let first = scalars[word.lowerBound]
                    if needsPrefix && first != " " && first != replacement { rewritten.append(replacement) }
                    for i in word { rewritten.append(scalars[i] == " " ? replacement : scalars[i]) }
                    let range = start..<rewritten.count
                    if splitWords {
                        SplitBehavior.mergedWithNext.apply(SplitBehavior.scalarMatches(rewritten, range) { $0 == replacement },
                                                           into: &next)
                    } else {
                        next.append(range)
                    }
                }
                scalars = rewritten
            case .byteLevel(let addPrefixSpace, let useRegex):
                var pieces: [Range<Int>] = []
                var prefixed: [Unicode.Scalar] = []
                prefixed.reserveCapacity(scalars.count + words.count)
                for word in words {
                    let start = prefixed.count
                    if addPrefixSpace && scalars[word.lowerBound] != " " { prefixed.append(" ") }
                    prefixed.append(contentsOf: scalars[word])
                    if useRegex {
                        ByteLevel.splitGPT2(prefixed, start..<prefixed.count, into: &pieces)
                    } else {
                        pieces.append(start..<prefixed.count)
                    }
                }
                var mapped: [Unicode.Scalar] = []
                mapped.reserveCapacity(prefixed.count + prefixed.count / 2)
                for piece in pieces {
                    let start = mapped.count
                    ByteLevel.appendMapped(prefixed[piece], to: &mapped)
                    next.append(start..<mapped.count)
                }
                scalars = mapped
            }
            words = next
        }
        return (scalars, words)
    }
}
