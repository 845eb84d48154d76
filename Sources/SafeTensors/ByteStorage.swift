#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a whole safetensors file: either a read-only private memory mapping
/// (unmapped in `deinit`) or a heap copy (16-byte aligned, freed in `deinit`).
///
/// Immutable after creation, so it can be shared between threads. Tensors handed out
/// without a copy keep a reference to it, so the bytes outlive the ``SafeTensorsFile``.
final class ByteStorage: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let isMapped: Bool

    private init(base: UnsafeRawPointer, count: Int, isMapped: Bool) {
        self.base = base
        self.count = count
        self.isMapped = isMapped
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            base.deallocate()
        }
    }

    /// All bytes.
    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Copies `bytes` into fresh 16-byte-aligned memory (so alignment behaves as with a mapping).
    static func copying(_ bytes: [UInt8]) -> ByteStorage {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress { p.copyMemory(from: s, byteCount: src.count) }
        }
        return ByteStorage(base: UnsafeRawPointer(p), count: bytes.count, isMapped: false)
    }

    /// Memory-maps the regular file at `path` read-only (PROT_READ, MAP_PRIVATE).
    ///
    /// Files smaller than 8 bytes are rejected here (`fileTooSmall`), since an empty file
    /// cannot be mapped. Opens with O_NONBLOCK so a FIFO cannot block the caller.
    /// Caveat inherent to mmap: if another process truncates the file while it is mapped,
    /// touching the vanished pages raises SIGBUS.
    static func mapping(path: String, displayName: String) throws(SafeTensorsError) -> ByteStorage {
        func fail(_ kind: SafeTensorsError.Kind) -> SafeTensorsError {
            SafeTensorsError(file: displayName, kind: kind)
        }
        func systemMessage(_ code: Int32) -> String {
            String(cString: strerror(code))
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw fail(.fileNotFound)
            case EISDIR: throw fail(.isDirectory)
            default: throw fail(.unreadable(reason: systemMessage(code)))
            }
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            throw fail(.unreadable(reason: systemMessage(errno)))
        }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw fail(.isDirectory) }
        if type != S_IFREG { throw fail(.notRegularFile) }
        guard st.st_size >= 0, let size = Int(exactly: st.st_size) else {
            throw fail(.unreadable(reason: "invalid file size \(st.st_size)"))
        }
        if size < 8 { throw fail(.fileTooSmall(size: size)) }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw fail(.unreadable(reason: "mmap failed: \(systemMessage(errno))"))
        }
        return ByteStorage(base: UnsafeRawPointer(p), count: size, isMapped: true)
    }
}
