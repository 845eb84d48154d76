/// A token matched in the text before (or, if `normalized`, after) normalization.
struct AddedToken: Sendable, Equatable {
    var id: Int32
    var content: [Unicode.Scalar]
    var singleWord: Bool
    var leftStrip: Bool
    var rightStrip: Bool
    var normalized: Bool
}

/// Finds added tokens in a text with one trie walked from each position: leftmost-longest matches,
/// non-overlapping, as the Aho-Corasick automaton of the `tokenizers` AddedVocabulary finds them. The
/// cost per position is bounded by the depth the text reaches in the trie, not by the number of tokens.
struct AddedTokenMatcher: Sendable {
    let tokens: [AddedToken]
    /// `(node << 32) | scalar` -> child node; node 0 is the root.
    private let edges: [UInt64: Int32]
    /// The index in `tokens` of the token ending at each node, or -1.
    private let terminal: [Int32]

    init(tokens: [AddedToken]) {
        var kept: [AddedToken] = []
        var edges: [UInt64: Int32] = [:]
        var terminal: [Int32] = [-1]
        for token in tokens where !token.content.isEmpty {
            var node: Int32 = 0
            for scalar in token.content {
                let key = (UInt64(UInt32(node)) << 32) | UInt64(scalar.value)
                if let child = edges[key] {
                    node = child
                } else {
                    let child = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = child
                    node = child
                }
            }
            // The first token with a content wins, as in the automaton built from the token list.
            if terminal[Int(node)] < 0 {
                terminal[Int(node)] = Int32(kept.count)
                kept.append(token)
            }
        }
        self.tokens = kept
        self.edges = edges
        self.terminal = terminal
    }

    /// A piece of the text: either plain text (to be normalized and tokenized) or an added token.
    enum Piece {
        case text(Range<Int>)
        case token(Int32)
    }

    /// The id of the token whose content is `scalars`, if any.
    func id(of scalars: [Unicode.Scalar]) -> Int32? {
        var node: Int32 = 0
        for scalar in scalars {
            guard let child = edges[(UInt64(UInt32(node)) << 32) | UInt64(scalar.value)] else { return nil }
            node = child
        }
        let index = terminal[Int(node)]
        return index >= 0 ? tokens[Int(index)].id : nil
    }

    /// Whether any token could change how a text cut before a space between two ASCII letters or digits is
    /// split (a token containing a space, or one that strips the spaces after it).
    var spansSpaces: Bool {
        tokens.contains { $0.rightStrip || $0.content.contains(" ") }
    }

    private static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil
            || s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .spacingMark
            || s.properties.generalCategory == .enclosingMark || s.properties.generalCategory == .connectorPunctuation
    }

    /// The longest token starting at `start` (leftmost-longest), as (end, token index).
    @inline(__always)
    private func longestMatch(_ text: [Unicode.Scalar], at start: Int, end: Int) -> (Int, Int)? {
        var node: Int32 = 0
        var best: (Int, Int)?
        var i = start
        while i < end, let child = edges[(UInt64(UInt32(node)) << 32) | UInt64(text[i].value)] {
            node = child
            i += 1
            let index = terminal[Int(node)]
            if index >= 0 { best = (i, Int(index)) }
        }
        return best
    }

    /// Splits `text[range]` into plain-text pieces and added tokens (AddedVocabulary::find_matches).
    func split(_ text: [Unicode.Scalar], _ range: Range<Int>) -> [Piece] {
        if tokens.isEmpty { return range.isEmpty ? [] : [.text(range)] }
        var pieces: [Piece] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            guard let (end, index) = longestMatch(text, at: i, end: range.upperBound) else { i += 1; continue }
            let token = tokens[index]
            let matchEnd0 = end
            i = end
            if token.singleWord {
                let startSpace = matchEnd0 - token.content.count == range.lowerBound
                    || !AddedTokenMatcher.isWordScalar(text[matchEnd0 - token.content.count - 1])
                let stopSpace = matchEnd0 == range.upperBound || !AddedTokenMatcher.isWordScalar(text[matchEnd0])
                if !startSpace || !stopSpace { continue }
            }
            var matchStart = matchEnd0 - token.content.count
            var matchEnd = matchEnd0
            if token.leftStrip {
                var newStart = matchStart
                while newStart > range.lowerBound,
                      CharacterClasses.flags(of: text[newStart - 1].value).contains(.whitespace) {
                    newStart -= 1
                }
                matchStart = max(newStart, textStart)
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
        }
        if textStart < range.upperBound { pieces.append(.text(textStart..<range.upperBound)) }
        return pieces
    }
}
