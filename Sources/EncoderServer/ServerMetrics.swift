import Foundation
import Prometheus

/// The server's Prometheus metrics, served as text at `GET /metrics`.
///
/// - `encoder_requests_total{route, status}`: answered requests.
/// - `encoder_queue_depth`: inputs waiting for the batcher.
/// - `encoder_requests_in_flight`: requests accepted and not yet answered (bounded by `--max-concurrent-requests`).
/// - `encoder_batch_tokens`: real tokens per forward pass (histogram).
/// - `encoder_batch_inputs`: inputs per forward pass (histogram).
/// - `encoder_queue_duration_seconds`, `encoder_inference_duration_seconds`: time an input waited in the
///   queue, and the forward pass that embedded it (histograms).
/// - `encoder_tokens_embedded_total`, `encoder_inputs_embedded_total`.
public final class ServerMetrics: Sendable {
    /// The registry; `GET /metrics` emits it.
    public let registry: PrometheusCollectorRegistry
    let queueDepth: Gauge
    let inFlight: Gauge
    let batchTokens: ValueHistogram
    let batchInputs: ValueHistogram
    let queueDuration: DurationHistogram
    let inferenceDuration: DurationHistogram
    let tokensEmbedded: Counter
    let inputsEmbedded: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "encoder", metricName: metric, unitName: unit, helpText: help)
        }
        queueDepth = registry.makeGauge(descriptor: name("queue_depth", "Inputs waiting for the batcher."))
        inFlight = registry.makeGauge(
            descriptor: name("requests_in_flight", "Embedding requests accepted and not yet answered."))
        batchTokens = registry.makeValueHistogram(
            descriptor: name("batch_tokens", "Real tokens per forward pass."),
            buckets: [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768])
        batchInputs = registry.makeValueHistogram(
            descriptor: name("batch_inputs", "Inputs per forward pass."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
        let timeBuckets: [Duration] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        queueDuration = registry.makeDurationHistogram(
            descriptor: name("queue_duration", unit: "seconds", "Time an input waited before its forward pass started."),
            buckets: timeBuckets)
        inferenceDuration = registry.makeDurationHistogram(
            descriptor: name("inference_duration", unit: "seconds", "Duration of one forward pass."),
            buckets: timeBuckets)
        tokensEmbedded = registry.makeCounter(descriptor: name("tokens_embedded", unit: "total", "Tokens embedded."))
        inputsEmbedded = registry.makeCounter(descriptor: name("inputs_embedded", unit: "total", "Inputs embedded."))
    }

    /// Counts one answered request.
    func recordRequest(route: String, status: Int) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "encoder", metricName: "requests", unitName: "total",
                helpText: "Answered requests by route and HTTP status."),
            labels: [("route", route), ("status", String(status))]
        ).increment()
    }

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
