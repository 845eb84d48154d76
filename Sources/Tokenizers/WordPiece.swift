/// The WordPiece model: greedy longest-match-first over a vocabulary.
struct WordPiece: Sendable {
    var vocabulary: Vocabulary
    var unknownTokenID: Int32
    var continuingSubwordPrefix: String
    var maxInputCharsPerWord: Int
    /// The longest vocabulary entry in scalars: no longer candidate can match.
    var longestTokenScalars: Int

    init(vocabulary: Vocabulary, unknownTokenID: Int32, continuingSubwordPrefix: String, maxInputCharsPerWord: Int) {
        self.vocabulary = vocabulary
        self.unknownTokenID = unknownTokenID
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var longest = 0
        for (token, _) in vocabulary {
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
