/// GPT-2's byte-level machinery, as the ByteLevel pre-tokenizer of Hugging Face `tokenizers` uses it.
enum ByteLevel {
    /// GPT-2's `bytes_to_unicode`: every byte as a printable character (printable Latin-1 bytes map to
    /// themselves, the others to U+0100 upwards in byte order).
    static let byteToScalar: [Unicode.Scalar] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        for byte in printable { table[byte] = Unicode.Scalar(UInt32(byte))! }
        var next: UInt32 = 256
        for byte in 0..<256 where !printable.contains(byte) {
            table[byte] = Unicode.Scalar(next)!
            next += 1
            printable.append(byte)
        }
        return table
    }()

    /// Appends the byte-level characters of the UTF-8 encoding of `scalars`.
    @inline(__always)
    static func appendMapped(_ scalars: ArraySlice<Unicode.Scalar>, to output: inout [Unicode.Scalar]) {
        let table = byteToScalar
        for scalar in scalars {
            let v = scalar.value
            if v < 0x80 {
                output.append(table[Int(v)])
            } else if v < 0x800 {
                output.append(table[Int(0xC0 | (v >> 6))])
                output.append(table[Int(0x80 | (v & 0x3F))])
            } else if v < 0x10000 {
                output.append(table[Int(0xE0 | (v >> 12))])
                output.append(table[Int(0x80 | ((v >> 6) & 0x3F))])
                output.append(table[Int(0x80 | (v & 0x3F))])
            } else {
                output.append(table[Int(0xF0 | (v >> 18))])
                output.append(table[Int(0x80 | ((v >> 12) & 0x3F))])
                output.append(table[Int(0x80 | ((v >> 6) & 0x3F))])
                output.append(table[Int(0x80 | (v & 0x3F))])
            }
        }
    }

    /// Splits `text[range]` as the GPT-2 pattern
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` does under Oniguruma
    /// (first alternative that matches wins; classes from ``RegexClassTables``), appending the matches.
    /// Every scalar belongs to exactly one match.
    static func splitGPT2(_ text: [Unicode.Scalar], _ range: Range<Int>, into output: inout [Range<Int>]) {
        let end = range.upperBound
        @inline(__always) func flags(_ i: Int) -> CharacterClasses.Flags { CharacterClasses.flags(of: text[i].value) }
        @inline(__always) func isOther(_ f: CharacterClasses.Flags) -> Bool {
            !f.contains(.regexWhitespace) && !f.contains(.letter) && !f.contains(.number)
        }
        var i = range.lowerBound
        while i < end {
            let c = text[i]
            // 's 't 'm 'd 're 've 'll
            if c == "'" && i + 1 < end {
                let n = text[i + 1]
                if n == "s" || n == "t" || n == "m" || n == "d" {
                    output.append(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < end {
                    let m = text[i + 2]
                    if (n == "r" && m == "e") || (n == "v" && m == "e") || (n == "l" && m == "l") {
                        output.append(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            let j = (c == " " && i + 1 < end) ? i + 1 : i
            let fj = flags(j)
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
            if fj.contains(.letter) || fj.contains(.number) || isOther(fj) {
                var k = j + 1
                if fj.contains(.letter) {
                    while k < end && flags(k).contains(.letter) { k += 1 }
                } else if fj.contains(.number) {
                    while k < end && flags(k).contains(.number) { k += 1 }
                } else {
                    while k < end && isOther(flags(k)) { k += 1 }
                }
                output.append(i..<k); i = k; continue
            }
            // `\s+(?!\S)|\s+`
            var k = i + 1
            while k < end && flags(k).contains(.regexWhitespace) { k += 1 }
            if k < end && k - i >= 2 { k -= 1 }
            output.append(i..<k)
            i = k
        }
    }
}
