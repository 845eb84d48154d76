import Foundation

/// A compiled regular expression from `tokenizer.json` (`{"Regex": "..."}` patterns of Replace and Split).
///
/// Hugging Face compiles these with Oniguruma; here Foundation's ICU-based `NSRegularExpression` runs
/// them, which agrees on the patterns published tokenizers use (character classes, alternations,
/// quantifiers). `NSRegularExpression` is immutable and documented thread-safe, hence `@unchecked Sendable`.
final class RegexPattern: @unchecked Sendable {
    let source: String
    private let expression: NSRegularExpression

    /// Compiles `source`; throws a ``TokenizerError`` naming `file` and `field` if it does not compile.
    init(_ source: String, file: String, field: String) throws(TokenizerError) {
        self.source = source
        do {
            expression = try NSRegularExpression(pattern: RegexPattern.translatedForICU(source), options: [])
        } catch {
            throw TokenizerError(.invalidField, file: file, field: field,
                                 message: "the regular expression \"\(source)\" does not compile")
        }
    }

    /// Rewrites the shorthand classes whose ICU meaning differs from Oniguruma's: `\w` (ICU adds the
    /// join controls U+200C/U+200D) and `\s` (ICU leaves out U+000B and U+0085) become explicit
    /// property classes, which also work inside brackets (ICU nests sets).
    static func translatedForICU(_ source: String) -> String {
        var output = ""
        var iterator = source.makeIterator()
        while let c = iterator.next() {
            guard c == "\\" else { output.append(c); continue }
            guard let next = iterator.next() else { output.append(c); break }
            switch next {
            case "w": output += "[\\p{Alphabetic}\\p{M}\\p{N}\\p{Pc}]"
            case "W": output += "[^\\p{Alphabetic}\\p{M}\\p{N}\\p{Pc}]"
            case "s": output += "\\p{White_Space}"
            case "S": output += "\\P{White_Space}"
            default: output.append(c); output.append(next)
            }
        }
        return output
    }

    /// Matches of the pattern in `scalars`, leftmost first and non-overlapping, as scalar-index ranges
    /// relative to `scalars.startIndex`. Empty matches are dropped.
    func matches(in scalars: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        guard !scalars.isEmpty else { return [] }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        let string = String(text)
        // UTF-16 offset -> scalar index.
        var scalarIndex: [Int] = []
        scalarIndex.reserveCapacity(scalars.count * 2 + 1)
        for (index, scalar) in scalars.enumerated() {
            scalarIndex.append(index)
            if scalar.value > 0xFFFF { scalarIndex.append(index) }
        }
        scalarIndex.append(scalars.count)
        let found = expression.matches(in: string, options: [], range: NSRange(location: 0, length: scalarIndex.count - 1))
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(found.count)
        for match in found where match.range.length > 0 && match.range.location != NSNotFound {
            let lower = scalarIndex[match.range.location]
            let upper = scalarIndex[match.range.location + match.range.length]
            if lower < upper { ranges.append(lower..<upper) }
        }
        return ranges
    }
}

/// A `pattern` of Replace or Split: a literal string or a regular expression.
enum TextPattern: Sendable {
    case literal([Unicode.Scalar])
    case regex(RegexPattern)

    /// Non-overlapping matches, leftmost first, relative to `scalars.startIndex`.
    func matches(in scalars: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        switch self {
        case .regex(let regex):
            return regex.matches(in: scalars)
        case .literal(let needle):
            guard !needle.isEmpty, scalars.count >= needle.count else { return [] }
            let base = scalars.startIndex
            var ranges: [Range<Int>] = []
            var i = base
            while i + needle.count <= scalars.endIndex {
                if scalars[i] == needle[0] && scalars[i..<(i + needle.count)].elementsEqual(needle) {
                    ranges.append((i - base)..<(i - base + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
            return ranges
        }
    }
}
