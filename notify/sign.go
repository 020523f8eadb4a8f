package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// Signatures are the two signature headers of a webhook request, for
// every secret that signs it (SPEC §5.2).
type Signatures struct {
	// Hex is X-Webhook-Signature: lowercase hex HMAC-SHA256 of the body,
	// keyed with the secret string as shown; several are comma-separated.
	Hex string
	// Standard is webhook-signature: "v1," and the base64 HMAC-SHA256 of
	// "id.timestamp.body", keyed with the decoded secret; several are
	// space-separated.
	Standard string
}

// Sign signs body, sent as delivery id at Unix time ts, with each secret.
func Sign(secrets []string, id string, ts int64, body []byte) Signatures {
	var hexes, std []string
	prefix := id + "." + strconv.FormatInt(ts, 10) + "."
	for _, s := range secrets {
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		hexes = append(hexes, hex.EncodeToString(m.Sum(nil)))

		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil {
			continue // not a Herald secret; only the hex scheme applies
		}
		m = hmac.New(sha256.New, key)
		m.Write([]byte(prefix))
		m.Write(body)
		std = append(std, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return Signatures{Hex: strings.Join(hexes, ","), Standard: strings.Join(std, " ")}
}
