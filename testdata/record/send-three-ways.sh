# Posts the six HotROD request bodies of the corpus to $OTEL_EXPORTER_OTLP_ENDPOINT three ways:
# OTLP/HTTP over HTTP/1.1, OTLP/HTTP over HTTP/2 (h2c), and OTLP/gRPC (a hand-made unary call).
set -- testdata/corpus/hotrod-local/otlp-http-requests/*.pb
u=$OTEL_EXPORTER_OTLP_ENDPOINT
curl -s -o /dev/null -H "Content-Type: application/x-protobuf" --data-binary @$1 $u/v1/traces
curl -s -o /dev/null --http2-prior-knowledge -H "Content-Type: application/x-protobuf" --data-binary @$2 $u/v1/traces
for f in $3 $4 $5 $6; do
  { printf '\0'; printf '%08x' $(wc -c <$f) | xxd -r -p; cat $f; } |
    curl -s -o /dev/null --http2-prior-knowledge -H "Content-Type: application/grpc" -H "TE: trailers" \
      --data-binary @- $u/opentelemetry.proto.collector.trace.v1.TraceService/Export
done
