import Foundation

/// A failure to open, write or finish the output, naming it.
struct OutputFailure: Error, CustomStringConvertible {
    let description: String
}

/// Where `--output` goes, decided the way a careful shell redirection would:
///
/// - `-` (or no `--output`): standard output, written directly.
/// - A regular file, new or existing (a symlink is followed to its target): results go to a temporary file in
///   the same folder, renamed over the target by ``commit()`` only when the run succeeds. A failed or
///   interrupted run leaves the previous file as it was, and a partial result never carries the final name
///   (``abandon(keepingWholeBytes:)`` renames it to `<name>.partial` or removes it). The replaced file keeps
///   its permission bits; a hard link to the previous file keeps the previous content (the name now points
///   to a new inode, as with any atomic save).
/// - A character or block device, a FIFO or a socket, `/dev/stdout`, `/dev/fd/N`, `/proc/…`: opened and
///   written directly (`O_WRONLY|O_TRUNC`, as `>` does), never replaced.
final class OutputDestination {
    enum Kind {
        case standardOutput
        case direct(path: String)
        case replacing(target: String, temporary: String)
    }

    let kind: Kind
    let descriptor: Int32
    /// The name used in messages.
    let name: String

    /// True when the bytes go to a regular file this run owns (the temporary file), which can seek and truncate.
    var isPrivateFile: Bool { if case .replacing = kind { return true } else { return false } }

    /// Resolves `path` without touching anything: what it will be written as.
    static func plan(_ path: String?) throws -> Kind {
        guard let path, path != "-" else { return .standardOutput }
        var current = path
        for _ in 0..<40 {
            if current.hasPrefix("/proc/") || current.hasPrefix("/dev/fd/") || ["/dev/stdout", "/dev/stderr"].contains(current) {
                return .direct(path: path)
            }
            var info = stat()
            if lstat(current, &info) != 0 {
                guard errno == ENOENT else {
                    throw OutputFailure(description: "\(path): cannot write output (\(String(cString: strerror(errno))))")
                }
                return .replacing(target: current, temporary: "")
            }
            switch info.st_mode & S_IFMT {
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(current, &target, target.count - 1)
                guard n >= 0 else { throw OutputFailure(description: "\(path): cannot follow the symlink \(current)") }
                let link = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                current = link.hasPrefix("/") ? link : (current as NSString).deletingLastPathComponent + "/" + link
            case S_IFREG:
                return .replacing(target: current, temporary: "")
            case S_IFDIR:
                throw OutputFailure(description: "\(path): is a directory")
            default:
                return .direct(path: path)
            }
        }
        throw OutputFailure(description: "\(path): too many levels of symbolic links")
    }

    /// Opens the planned output. Call it only once the run can succeed (model loaded, input opened).
    init(path: String?) throws {
        let planned = try Self.plan(path)
        switch planned {
        case .standardOutput:
            kind = .standardOutput
            descriptor = 1
            name = "<stdout>"
        case let .direct(path):
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw OutputFailure(description: "\(path): cannot open for writing (\(String(cString: strerror(errno))))") }
            kind = planned
            descriptor = fd
            name = path
        case let .replacing(target, _):
            let folder = (target as NSString).deletingLastPathComponent
            let base = (target as NSString).lastPathComponent
            var template = Array(((folder.isEmpty ? "." : folder) + "/.\(base).encoder-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else {
                throw OutputFailure(description: "\(path ?? target): cannot create a file in \(folder.isEmpty ? "." : folder) (\(String(cString: strerror(errno))))")
            }
            let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            // The result keeps the permission bits of the file it replaces; a new file gets 0666 minus the umask.
            var existing = stat()
            if stat(target, &existing) == 0 {
                fchmod(fd, existing.st_mode & 0o7777)
            } else {
                let mask = umask(0)
                umask(mask)
                fchmod(fd, 0o666 & ~mask)
            }
            kind = .replacing(target: target, temporary: temporary)
            descriptor = fd
            name = path ?? target
            InterruptCleanup.remove(onSignal: temporary)
        }
    }

    /// Writes all of `bytes`; returns how many were written before an error, with the error.
    func write(_ bytes: UnsafeRawBufferPointer) -> (written: Int, error: Int32?) {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            return (offset, n < 0 ? errno : ENOSPC)
        }
        return (offset, nil)
    }

    /// Writes `bytes` at `offset` (the private file only: the npy header).
    func write(_ bytes: [UInt8], at offset: Int) throws {
        let n = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw OutputFailure(description: "\(name): cannot write output (\(String(cString: strerror(errno))))") }
    }

    /// The run succeeded: the temporary file takes the final name (after its data reached the disk).
    func commit() throws {
        switch kind {
        case .standardOutput:
            return
        case .direct:
            close(descriptor)
        case let .replacing(target, temporary):
            guard fsync(descriptor) == 0 else {
                let reason = String(cString: strerror(errno))
                _ = abandon(keepingWholeBytes: nil)
                throw OutputFailure(description: "\(name): cannot write output (\(reason))")
            }
            close(descriptor)
            guard rename(temporary, target) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                InterruptCleanup.clear()
                throw OutputFailure(description: "\(name): cannot replace it (\(reason)); the previous file is unchanged")
            }
            InterruptCleanup.clear()
        }
    }

    /// The run failed. For a private file: keep the first `keepingWholeBytes` bytes as `<target>.partial`
    /// (returning that path), or remove it when `nil` or 0. Streams and devices keep what they received.
    func abandon(keepingWholeBytes: Int?) -> String? {
        guard case let .replacing(target, temporary) = kind else { return nil }
        defer { InterruptCleanup.clear() }
        if let keep = keepingWholeBytes, keep > 0, ftruncate(descriptor, off_t(keep)) == 0 {
            close(descriptor)
            let partial = target + ".partial"
            if rename(temporary, partial) == 0 { return partial }
        } else {
            close(descriptor)
        }
        unlink(temporary)
        return nil
    }
}

/// Removes the temporary output file when SIGINT, SIGTERM or SIGHUP ends the run, then dies of that signal,
/// so an interrupted run leaves neither a partial result under the final name nor a stray temporary file.
enum InterruptCleanup {
    nonisolated(unsafe) private static var path: UnsafeMutablePointer<CChar>?

    static func remove(onSignal file: String) {
        path = strdup(file)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                if let path = InterruptCleanup.path { unlink(path) }
                signal(number, SIG_DFL)
                raise(number)
            }
            sigemptyset(&action.sa_mask)
            sigaction(signalNumber, &action, nil)
        }
    }

    static func clear() {
        let old = path
        path = nil
        free(old)
    }
}
