import Foundation

/// Writes results to a file or standard output, whole lines only: each record is written with one
/// `write`, so output cut short by a failure never ends in half a line.
final class OutputWriter {
    let handle: FileHandle
    let path: String?
    private var pending = Data()

    init(path: String?) throws {
        if let path, path != "-" {
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path)
            else {
                throw InputReader.Failure(description: "\(path): cannot open for writing")
            }
            self.handle = handle
            self.path = path
        } else {
            self.handle = FileHandle.standardOutput
            self.path = nil
        }
    }

    /// Queues one record (a complete line, "\n" included).
    func append(_ record: String) throws {
        pending.append(contentsOf: record.utf8)
        if pending.count >= 1 << 16 { try flush() }
    }

    /// Writes what is queued. Throws when the output cannot take it (a full disk, a closed pipe).
    func flush() throws {
        guard !pending.isEmpty else { return }
        try write(pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes `data` now, turning a failed write into an error that names the output.
    func write(_ data: Data) throws {
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw InputReader.Failure(description: "\(path ?? "<stdout>"): cannot write output (\(error.localizedDescription))")
        }
    }

    /// A float as JSON: the shortest text that reads back as the same `Float`.
    static func json(_ value: Float) -> String {
        value.isFinite ? "\(value)" : "null"
    }

    static func jsonArray<S: Sequence>(_ values: S) -> String where S.Element == Float {
        "[" + values.map(json).joined(separator: ",") + "]"
    }

    static func jsonArray<S: Sequence>(_ values: S) -> String where S.Element == Int32 {
        "[" + values.map { String($0) }.joined(separator: ",") + "]"
    }
}

/// A NumPy `.npy` file (format 1.0) of float32, shape (rows, columns), little-endian, C order.
///
/// Rows stream to the file as they come; the header's row count is rewritten at the end, which needs a
/// seekable file. On standard output (not seekable) rows are held until the end instead.
final class NPYWriter {
    private let output: OutputWriter
    private let columns: Int
    private var rows = 0
    private let seekable: Bool
    private var held = Data()
    /// Header length, fixed so the shape can be rewritten in place (a multiple of 64 bytes).
    private static let headerLength = 128

    init(output: OutputWriter, columns: Int) throws {
        self.output = output
        self.columns = columns
        self.seekable = output.path != nil
        if seekable { try output.write(Self.header(rows: 0, columns: columns)) }
    }

    static func header(rows: Int, columns: Int) -> Data {
        var text = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let prefix = 10  // magic (6) + version (2) + header length (2)
        text += String(repeating: " ", count: headerLength - prefix - text.utf8.count - 1) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(text.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: text.utf8)
        return data
    }

    /// Appends one row of `columns` floats.
    func append(_ row: ArraySlice<Float>) throws {
        var data = Data(capacity: row.count * 4)
        for value in row { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        if seekable { try output.write(data) } else { held.append(data) }
        rows += 1
    }

    /// Writes the final header (or, on stdout, everything).
    func finish() throws {
        if seekable {
            try output.handle.seek(toOffset: 0)
            try output.write(Self.header(rows: rows, columns: columns))
            try output.handle.seekToEnd()
        } else {
            try output.write(Self.header(rows: rows, columns: columns))
            try output.write(held)
        }
    }
}
