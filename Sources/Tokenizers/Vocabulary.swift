/// A token string as exact Unicode scalars. Swift's `String` equality is canonical equivalence
/// (`"é" == "e\u{301}"`), while Hugging Face (Rust) compares bytes: two keys are equal here only if
/// their UTF-8 bytes are, so `"e\u{301}"` never finds the vocabulary entry `"é"`.
struct TokenKey: Hashable, Sendable {
    var text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: TokenKey, rhs: TokenKey) -> Bool {
        var a = lhs.text, b = rhs.text
        return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
    }

    func hash(into hasher: inout Hasher) {
        var copy = text
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// Token -> id, keyed by exact scalars (see ``TokenKey``).
struct Vocabulary: Sendable, Sequence {
    private var storage: [TokenKey: Int32] = [:]

    init() {}

    subscript(_ token: String) -> Int32? {
        get { storage[TokenKey(token)] }
        set { storage[TokenKey(token)] = newValue }
    }

    var count: Int { storage.count }

    mutating func reserveCapacity(_ capacity: Int) { storage.reserveCapacity(capacity) }

    func makeIterator() -> AnyIterator<(token: String, id: Int32)> {
        var inner = storage.makeIterator()
        return AnyIterator { inner.next().map { ($0.key.text, $0.value) } }
    }
}
