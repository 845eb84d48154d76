import Foundation

/// The normalizer stage: a faithful port of the Hugging Face `tokenizers` normalizers. Text is handled
/// as arrays of `Unicode.Scalar` (Rust `char`s), never as Swift `Character`s (grapheme clusters).

// MARK: - Normalizer

/// One elementary normalization step.
enum NormalizerStep: Sendable {
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
    /// NFC, NFKC or NFKD (Foundation's Unicode normalization).
    case unicodeForm(UnicodeForm)
    /// Strip: remove leading and/or trailing whitespace (Rust `char::is_whitespace`).
    case strip(left: Bool, right: Bool)
    /// Replace: every non-overlapping match of the pattern becomes `content`.
    case replace(TextPattern, content: [Unicode.Scalar])
    /// Prepend: put `prefix` in front of a non-empty text.
    case prepend([Unicode.Scalar])
    /// Precompiled: SentencePiece's compiled normalization map.
    case precompiled(PrecompiledCharsmap)
}

/// The Unicode normalization forms Foundation computes (NFD has its own exact table).
enum UnicodeForm: Sendable {
    case nfc, nfkc, nfkd
}

/// A sequence of normalization steps.
struct Normalizer: Sendable {
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
        case .unicodeForm(let form):
            var view = String.UnicodeScalarView()
            view.append(contentsOf: input)
            let string = String(view)
            let mapped: String
            switch form {
            case .nfc: mapped = string.precomposedStringWithCanonicalMapping
            case .nfkc: mapped = string.precomposedStringWithCompatibilityMapping
            case .nfkd: mapped = string.decomposedStringWithCompatibilityMapping
            }
            output.append(contentsOf: mapped.unicodeScalars)
        case .strip(let left, let right):
            var lower = 0, upper = input.count
            if left {
                while lower < upper, CharacterClasses.flags(of: input[lower].value).contains(.whitespace) { lower += 1 }
            }
            if right {
                while upper > lower, CharacterClasses.flags(of: input[upper - 1].value).contains(.whitespace) { upper -= 1 }
            }
            output.append(contentsOf: input[lower..<upper])
        case .replace(let pattern, let content):
            var position = 0
            for match in pattern.matches(in: input[...]) {
                output.append(contentsOf: input[position..<match.lowerBound])
                output.append(contentsOf: content)
                position = match.upperBound
            }
            output.append(contentsOf: input[position...])
        case .prepend(let prefix):
            if !input.isEmpty { output.append(contentsOf: prefix) }
            output.append(contentsOf: input)
        case .precompiled(let charsmap):
            return charsmap.normalize(input)
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
