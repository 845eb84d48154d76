import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds model folders: a path on disk, or a Hugging Face hub id (`sentence-transformers/all-mpnet-base-v2`)
/// looked up offline in the local Hugging Face cache. Errors say what the path really is (a file, a
/// symlink loop) and where a hub id was looked for.
public enum ModelFolder {
    /// The model folder `name` designates.
    ///
    /// - A path that exists must be a folder (a file or a symlink loop is an error saying so).
    /// - Otherwise a hub id (`ORG/NAME` or `NAME`) is looked up in the Hugging Face cache:
    ///   `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
    ///   `~/.cache/huggingface/hub`; the folder is `models--ORG--NAME/snapshots/<refs/main>`. Nothing is
    ///   downloaded.
    /// - Parameters:
    ///   - name: a path, or a hub id.
    ///   - environment: where the cache variables are read (the process's environment by default).
    public static func resolve(
        _ name: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(EncoderError) -> URL {
        let url = URL(fileURLWithPath: name)
        switch kind(of: url.path) {
        case .directory: return url
        case .missing: break
        default: try requireFolder(url)
        }
        guard isHubID(name) else {
            throw .unreadableFile(path: url.path, reason: "model folder not found")
        }
        let hub = hubCache(environment: environment)
        let repository = hub.appendingPathComponent("models--" + name.replacingOccurrences(of: "/", with: "--"))
        let reference = repository.appendingPathComponent("refs/main")
        guard let data = FileManager.default.contents(atPath: reference.path),
              let commit = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !commit.isEmpty, !commit.contains("/")
        else {
            throw .unreadableFile(
                path: name,
                reason: "no such folder, and not in the Hugging Face cache (looked for \(reference.path); "
                    + "download it once with `huggingface-cli download \(name)` or pass a folder)")
        }
        let snapshot = repository.appendingPathComponent("snapshots").appendingPathComponent(commit)
        guard kind(of: snapshot.path) == .directory else {
            throw .unreadableFile(
                path: snapshot.path, reason: "the Hugging Face cache names snapshot \(commit) for \(name) in refs/main, but it is missing")
        }
        return snapshot
    }

    /// Checks that `url` is a readable folder, with an error that says what it is otherwise.
    public static func requireFolder(_ url: URL) throws(EncoderError) {
        switch kind(of: url.path) {
        case .directory: return
        case .missing: throw .unreadableFile(path: url.path, reason: "model folder not found")
        case .symlinkLoop: throw .unreadableFile(path: url.path, reason: "is a symbolic link loop, not a model folder")
        case .file: throw .unreadableFile(path: url.path, reason: "is a file, not a model folder (pass the folder that holds config.json)")
        case .other(let reason): throw .unreadableFile(path: url.path, reason: reason)
        }
    }

    /// Checks that the safetensors file `url` exists; a folder with only a PyTorch pickle
    /// (`pytorch_model.bin`) gets an error saying how to convert it.
    public static func requireSafeTensors(_ url: URL) throws(EncoderError) {
        guard kind(of: url.path) == .missing else { return }   // other problems: the reader reports them
        let folder = url.deletingLastPathComponent()
        let pickle = folder.appendingPathComponent("pytorch_model.bin")
        if kind(of: pickle.path) != .missing {
            throw .unreadableFile(
                path: url.path,
                reason: "no such file; \(pickle.lastPathComponent) is there, but only safetensors weights are read. Convert once with "
                    + "Python: `from safetensors.torch import save_file; import torch; "
                    + "save_file({k: v.contiguous() for k, v in torch.load('\(pickle.path)', map_location='cpu').items()}, '\(url.path)')`")
        }
        throw .unreadableFile(path: url.path, reason: "no such file")
    }

    /// A hub id: one or two names of letters, digits, `-`, `_`, `.`, separated by `/`, not a relative path.
    static func isHubID(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part != "." && part != ".." && !part.hasPrefix(".")
                && part.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
        }
    }

    /// The Hugging Face hub cache folder named by `environment`.
    static func hubCache(environment: [String: String]) -> URL {
        func value(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let cache = value("HF_HUB_CACHE") ?? value("HUGGINGFACE_HUB_CACHE") { return URL(fileURLWithPath: cache) }
        if let home = value("HF_HOME") { return URL(fileURLWithPath: home).appendingPathComponent("hub") }
        if let xdg = value("XDG_CACHE_HOME") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("huggingface/hub")
        }
        let home = value("HOME") ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/huggingface/hub")
    }

    enum Kind: Equatable {
        case missing, directory, file, symlinkLoop
        case other(String)
    }

    /// What is at `path`, following symbolic links.
    static func kind(of path: String) -> Kind {
        var status = stat()
        if stat(path, &status) == 0 {
            return (status.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
        }
        switch errno {
        case ELOOP: return .symlinkLoop
        case ENOENT, ENOTDIR: return .missing
        case EACCES: return .other("permission denied")
        default: return .other(String(cString: strerror(errno)))
        }
    }
}
