import Foundation

/// Writes records (whole lines, or npy rows) to an ``OutputDestination``, counting how many reached it whole:
/// each `write` carries whole records, and after a failed write the count of records written in full is known,
/// so the error can say it and a private file can be cut back to whole records.
final class OutputWriter {
    let destination: OutputDestination
    private var pending: [UInt8] = []
    /// End offsets (in `pending`) of the records queued.
    private var recordEnds: [Int] = []
    /// Records and bytes that reached the destination whole (after a header, when there is one).
    private(set) var recordsWritten = 0
    private(set) var bytesWritten = 0

    init(destination: OutputDestination) {
        self.destination = destination
        pending.reserveCapacity(1 << 17)
    }

    var name: String { destination.name }

    /// Queues one record (a complete line, "\n" included).
    func append(_ record: String) throws {
        pending.append(contentsOf: record.utf8)
        recordEnds.append(pending.count)
        if pending.count >= 1 << 16 { try flush() }
    }

    /// Queues one record of raw bytes.
    func append(bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        recordEnds.append(pending.count)
        if pending.count >= 1 << 16 { try flush() }
    }

    /// Writes what is queued. Throws when the output cannot take it (a full disk, a closed pipe), after counting
    /// the records that were written in full.
    func flush() throws {
        guard !pending.isEmpty else { return }
        let (written, error) = pending.withUnsafeBytes { destination.write($0) }
        let whole = recordEnds.prefix { $0 <= written }
        recordsWritten += whole.count
        bytesWritten += whole.last ?? 0
        pending.removeAll(keepingCapacity: true)
        recordEnds.removeAll(keepingCapacity: true)
        if let error {
            throw OutputFailure(description: "\(name): cannot write output (\(String(cString: strerror(error))))")
        }
    }

    /// Writes bytes that are not a record (a header) now.
    func writeHeader(_ bytes: [UInt8]) throws {
        let (_, error) = bytes.withUnsafeBytes { destination.write($0) }
        if let error { throw OutputFailure(description: "\(name): cannot write output (\(String(cString: strerror(error))))") }
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
/// To a private file (a regular `--output`), rows stream as they come and the header's row count is rewritten
/// at the end, so the header always states the rows that follow it. To a stream (stdout, a FIFO, a device),
/// which cannot seek back, the rows are held in memory and written, header first, only when the run succeeds:
/// a failed run writes nothing rather than a header that lies about the row count (the price: rows × columns
/// × 4 bytes of memory, e.g. 1.5 GB for a million 384-dimensional rows).
final class NPYWriter {
    private let output: OutputWriter
    private let columns: Int
    private var heldRows = 0
    private var held: [UInt8] = []
    /// Header length, fixed so the shape can be rewritten in place (a multiple of 64 bytes).
    static let headerLength = 128

    init(output: OutputWriter, columns: Int) throws {
        self.output = output
        self.columns = columns
        if output.destination.isPrivateFile { try output.writeHeader(Self.header(rows: 0, columns: columns)) }
    }

    static func header(rows: Int, columns: Int) -> [UInt8] {
        var text = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let prefix = 10  // magic (6) + version (2) + header length (2)
        text += String(repeating: " ", count: headerLength - prefix - text.utf8.count - 1) + "\n"
        let length = UInt16(text.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(text.utf8)
    }

    /// Appends one row of `columns` floats.
    func append(_ row: ArraySlice<Float>) throws {
        var little = row.map { Float(bitPattern: $0.bitPattern.littleEndian) }
        if output.destination.isPrivateFile {
            try little.withUnsafeBytes { try output.append(bytes: $0) }
        } else {
            little.withUnsafeBytes { held.append(contentsOf: $0) }
            heldRows += 1
        }
        little.removeAll()
    }

    /// Rows that are in the file whole (private file) or held (stream).
    var rows: Int { output.destination.isPrivateFile ? output.recordsWritten : heldRows }

    /// Writes the final header (or, to a stream, everything).
    func finish() throws {
        if output.destination.isPrivateFile {
            try output.flush()
            try output.destination.write(Self.header(rows: output.recordsWritten, columns: columns), at: 0)
        } else {
            try output.writeHeader(Self.header(rows: heldRows, columns: columns) + held)
        }
    }

    /// After a failure, to a private file: make the header state the whole rows written so far, and return the
    /// byte count to keep (header + whole rows). Returns nil for a stream (nothing was written to it).
    func settleAfterFailure() -> Int? {
        guard output.destination.isPrivateFile else { return nil }
        try? output.destination.write(Self.header(rows: output.recordsWritten, columns: columns), at: 0)
        return Self.headerLength + output.bytesWritten
    }
}
