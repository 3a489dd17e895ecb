package tracefmt

// The attribute keys every decoder maps into Attrs, in both the current
// OpenTelemetry semantic conventions and the deprecated names still found
// in real exports (the HotROD corpus uses the current ones).

// attrField names the Attrs field an attribute key fills.
type attrField uint8

const (
	attrNone attrField = iota
	attrPeerService
	attrServerAddress
	attrDBSystem
	attrHTTPMethod
	attrHTTPRoute
	attrHTTPStatus
	attrRPCSystem
	attrRPCService
	attrRPCMethod
	attrMessaging
	attrDBStatement
)

// attrKey maps an attribute key to its Attrs field; cur reports the current
// semantic-convention name, which wins over the deprecated one.
func attrKey(key []byte) (f attrField, cur bool) {
	switch string(key) {
	case "service.peer.name":
		return attrPeerService, true
	case "peer.service":
		return attrPeerService, false
	case "server.address":
		return attrServerAddress, true
	case "net.peer.name":
		return attrServerAddress, false
	case "db.system.name":
		return attrDBSystem, true
	case "db.system":
		return attrDBSystem, false
	case "http.request.method":
		return attrHTTPMethod, true
	case "http.method":
		return attrHTTPMethod, false
	case "http.route":
		return attrHTTPRoute, true
	case "http.response.status_code":
		return attrHTTPStatus, true
	case "http.status_code":
		return attrHTTPStatus, false
	case "rpc.system.name":
		return attrRPCSystem, true
	case "rpc.system":
		return attrRPCSystem, false
	case "rpc.service":
		return attrRPCService, true
	case "rpc.method":
		return attrRPCMethod, true
	case "messaging.system":
		return attrMessaging, true
	case "db.query.text":
		return attrDBStatement, true
	case "db.statement":
		return attrDBStatement, false
	}
	return attrNone, false
}
