package receiver

// ExporterEnv is the environment that points an OpenTelemetry SDK's OTLP
// trace exporter at a receiver listening on addr (host:port), for
// transport: HTTP (http/protobuf, which every SDK speaks) when the port
// serves OTLP/HTTP, whether or not it serves gRPC too; GRPC for a port
// serving gRPC alone.
//
// The traces-only variables are set as well, as they override the general
// ones a user's environment may hold. On a port serving both, an SDK
// configured by these variables alone exports OTLP/HTTP, and a gRPC
// exporter an application chose in code reads the same endpoints: it takes
// their host and port (the OpenTelemetry Go and Python SDKs) or puts the
// method after the path, which this receiver accepts too.
func ExporterEnv(addr, transport string) []string {
	endpoint := "http://" + addr
	proto, traces := "http/protobuf", endpoint+TracesPath
	if transport == GRPC {
		proto, traces = "grpc", endpoint
	}
	return []string{
		"OTEL_TRACES_EXPORTER=otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + endpoint,
		"OTEL_EXPORTER_OTLP_PROTOCOL=" + proto,
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + traces,
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=" + proto,
	}
}
