package openstack

import (
	"encoding/json"
	"net/http"
	"time"
)

// Keystone's role ids are opaque; these stay fixed so tokens are comparable across requests.
const (
	adminRoleID  = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	memberRoleID = "0f9e8d7c6b5a49382716a5b4c3d2e1f0"
	readerRoleID = "1e2d3c4b5a6978877665a4b3c2d1e0ff"
)

func (a *API) routeIdentity() {
	a.mux.HandleFunc("GET "+IdentityPrefix, a.identityVersions)
	a.mux.HandleFunc("GET "+IdentityPrefix+"/{$}", a.identityVersions)
	a.mux.HandleFunc("GET "+IdentityPrefix+"/v3", a.identityVersion)
	a.mux.HandleFunc("GET "+IdentityPrefix+"/v3/{$}", a.identityVersion)
	a.mux.HandleFunc("POST "+IdentityPrefix+"/v3/auth/tokens", a.issueToken)
	a.mux.HandleFunc("GET "+IdentityPrefix+"/v3/auth/tokens", a.checkToken)
	a.mux.HandleFunc("HEAD "+IdentityPrefix+"/v3/auth/tokens", a.checkToken)
	a.mux.HandleFunc("DELETE "+IdentityPrefix+"/v3/auth/tokens", a.revokeToken)
	a.mux.HandleFunc("GET "+IdentityPrefix+"/v3/auth/catalog", a.requireToken(a.keystoneUnauthorized, a.catalogHandler))
}

// IdentityURL is the auth_url of the mock for a client connecting to base (http://host:port).
func IdentityURL(base string) string { return base + IdentityPrefix + "/v3" }

func (a *API) identityVersionBody(r *http.Request) map[string]any {
	return map[string]any{
		"id":      "v3.14",
		"status":  "stable",
		"updated": "2020-04-07T00:00:00Z",
		"links":   []any{map[string]any{"rel": "self", "href": a.baseURL(r) + IdentityPrefix + "/v3/"}},
		"media-types": []any{map[string]any{
			"base": "application/json", "type": "application/vnd.openstack.identity-v3+json",
		}},
	}
}

func (a *API) identityVersions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMultipleChoices, map[string]any{
		"versions": map[string]any{"values": []any{a.identityVersionBody(r)}},
	})
}

func (a *API) identityVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": a.identityVersionBody(r)})
}

// keystoneError writes Keystone's error body.
func keystoneError(w http.ResponseWriter, code int, title, message string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "title": title, "message": message}})
}

func (a *API) keystoneUnauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Keystone uri="`+IdentityURL(a.baseURL(r))+`"`)
	keystoneError(w, http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication.")
}

// authRequest is the part of POST /v3/auth/tokens the mock reads.
type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					ID       string    `json:"id"`
					Name     string    `json:"name"`
					Password string    `json:"password"`
					Domain   *domainID `json:"domain"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type domainID struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type scopeRequest struct {
	Project *struct {
		ID     string    `json:"id"`
		Name   string    `json:"name"`
		Domain *domainID `json:"domain"`
	} `json:"project"`
	Domain *domainID `json:"domain"`
	System any       `json:"system"`
}

func (a *API) domainMatches(d *domainID) bool {
	if d == nil {
		return true
	}
	return (d.ID == "" || d.ID == a.creds.DomainID) && (d.Name == "" || d.Name == a.creds.DomainName)
}

// issueToken is password (or token) authentication, project-scoped to the admin project.
// Keystone answers every credential problem with the same 401, naming nothing.
func (a *API) issueToken(w http.ResponseWriter, r *http.Request) {
	var req authRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		keystoneError(w, http.StatusBadRequest, "Bad Request", "Expecting to find auth in request body: "+err.Error())
		return
	}
	id := req.Auth.Identity
	if len(id.Methods) == 0 {
		keystoneError(w, http.StatusBadRequest, "Bad Request", "Expecting to find identity.methods in auth - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
		return
	}
	ok := false
	switch id.Methods[0] {
	case "password":
		if p := id.Password; p != nil {
			u := p.User
			nameOK := (u.ID != "" && u.ID == a.creds.UserID) || (u.ID == "" && u.Name == a.creds.Username && a.domainMatches(u.Domain))
			ok = nameOK && u.Password == a.creds.Password
		}
	case "token":
		if t := id.Token; t != nil {
			probe, _ := http.NewRequest(http.MethodGet, "/", nil)
			probe.Header.Set("X-Auth-Token", t.ID)
			ok = a.authenticated(probe)
		}
	default:
		keystoneError(w, http.StatusUnauthorized, "Unauthorized", "Attempted to authenticate with an unsupported method.")
		return
	}
	if !ok {
		a.keystoneUnauthorized(w, r)
		return
	}
	scoped := false
	if len(req.Auth.Scope) > 0 && string(req.Auth.Scope) != "null" {
		var sc scopeRequest
		if err := json.Unmarshal(req.Auth.Scope, &sc); err != nil {
			keystoneError(w, http.StatusBadRequest, "Bad Request", "Invalid scope: "+err.Error())
			return
		}
		switch {
		case sc.Project != nil:
			p := sc.Project
			if !((p.ID != "" && p.ID == a.creds.ProjectID) || (p.ID == "" && p.Name == a.creds.ProjectName && a.domainMatches(p.Domain))) {
				a.keystoneUnauthorized(w, r)
				return
			}
			scoped = true
		default:
			a.keystoneUnauthorized(w, r)
			return
		}
	}
	token := "gAAAAA" + randomHex(32)
	now := time.Now().UTC()
	exp := now.Add(a.ttl)
	a.mu.Lock()
	// Expired tokens are forgotten as new ones are issued, so a client that re-authenticates
	// often (or a flood of logins) cannot grow the table without bound.
	for t, e := range a.tokens {
		if !now.Before(e) {
			delete(a.tokens, t)
		}
	}
	a.tokens[token] = exp
	a.mu.Unlock()
	w.Header().Set("X-Subject-Token", token)
	writeJSON(w, http.StatusCreated, map[string]any{"token": a.tokenBody(r, now, exp, scoped)})
}

func (a *API) tokenBody(r *http.Request, issued, expires time.Time, scoped bool) map[string]any {
	domain := map[string]any{"id": a.creds.DomainID, "name": a.creds.DomainName}
	body := map[string]any{
		"methods":    []string{"password"},
		"user":       map[string]any{"id": a.creds.UserID, "name": a.creds.Username, "domain": domain, "password_expires_at": nil},
		"audit_ids":  []string{randomHex(11)},
		"issued_at":  issued.Format("2006-01-02T15:04:05.000000Z"),
		"expires_at": expires.Format("2006-01-02T15:04:05.000000Z"),
	}
	if scoped {
		body["project"] = map[string]any{"id": a.creds.ProjectID, "name": a.creds.ProjectName, "domain": domain}
		body["is_domain"] = false
		body["roles"] = []any{
			map[string]any{"id": adminRoleID, "name": "admin"},
			map[string]any{"id": memberRoleID, "name": "member"},
			map[string]any{"id": readerRoleID, "name": "reader"},
		}
		body["catalog"] = a.catalog(r)
	}
	return body
}

// catalog lists identity, compute, image and network, each with public, internal and admin endpoints.
func (a *API) catalog(r *http.Request) []any {
	base := a.baseURL(r)
	region := a.cloud.Lab().Region
	service := func(typ, name, url string) map[string]any {
		var eps []any
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]any{
				"id":        randomHex(16),
				"interface": iface,
				"region":    region,
				"region_id": region,
				"url":       url,
			})
		}
		return map[string]any{"id": randomHex(16), "type": typ, "name": name, "endpoints": eps}
	}
	return []any{
		service("identity", "keystone", base+IdentityPrefix),
		service("compute", "nova", base+ComputePrefix+"/v2.1"),
		service("image", "glance", base+ImagePrefix),
		service("network", "neutron", base+NetworkPrefix),
	}
}

func (a *API) catalogHandler(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"catalog": a.catalog(r)})
}

// checkToken is GET/HEAD /v3/auth/tokens: validate X-Subject-Token with X-Auth-Token.
func (a *API) checkToken(w http.ResponseWriter, r *http.Request) {
	subject, exp, ok := a.subjectToken(w, r, false)
	if !ok {
		return
	}
	if time.Now().After(exp) {
		tokenNotFound(w, subject)
		return
	}
	w.Header().Set("X-Subject-Token", subject)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": a.tokenBody(r, exp.Add(-a.ttl), exp, true)})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := a.subjectToken(w, r, true); !ok {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// subjectToken does what GET, HEAD and DELETE /v3/auth/tokens share: the caller's X-Auth-Token
// must be valid (else 401) and X-Subject-Token known (else 404); revoke forgets it as it is
// found. ok is false when the answer has been written.
func (a *API) subjectToken(w http.ResponseWriter, r *http.Request, revoke bool) (subject string, exp time.Time, ok bool) {
	if !a.authenticated(r) {
		a.keystoneUnauthorized(w, r)
		return "", time.Time{}, false
	}
	subject = r.Header.Get("X-Subject-Token")
	a.mu.Lock()
	exp, ok = a.tokens[subject]
	if revoke {
		delete(a.tokens, subject)
	}
	a.mu.Unlock()
	if !ok {
		tokenNotFound(w, subject)
	}
	return subject, exp, ok
}

func tokenNotFound(w http.ResponseWriter, subject string) {
	keystoneError(w, http.StatusNotFound, "Not Found", "Could not find token: "+subject+".")
}

// requireToken wraps a handler with keystonemiddleware's check: no valid X-Auth-Token, 401.
func (a *API) requireToken(deny http.HandlerFunc, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.authenticated(r) {
			deny(w, r)
			return
		}
		next(w, r)
	}
}
