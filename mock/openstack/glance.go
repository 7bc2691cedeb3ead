package openstack

import (
	"net/http"

	"github.com/hwcert/hwcert/mock/lab"
)

// imageEpoch is the creation time every lab image reports; images are fixtures, not uploads.
const imageEpoch = "2024-01-01T00:00:00Z"

func (a *API) routeImage() {
	a.mux.HandleFunc("GET "+ImagePrefix, a.imageVersions)
	a.mux.HandleFunc("GET "+ImagePrefix+"/{$}", a.imageVersions)
	a.mux.HandleFunc("GET "+ImagePrefix+"/versions", a.imageVersions)
	a.mux.HandleFunc("GET "+ImagePrefix+"/v2/images", a.requireToken(a.keystoneUnauthorized, a.listImages))
	a.mux.HandleFunc("GET "+ImagePrefix+"/v2/images/{id}", a.requireToken(a.keystoneUnauthorized, a.showImage))
}

func (a *API) imageVersions(w http.ResponseWriter, r *http.Request) {
	// Glance answers its root with 300 Multiple Choices, newest first.
	v2 := func(id, status string) map[string]any {
		return map[string]any{"id": id, "status": status, "links": []any{
			map[string]any{"rel": "self", "href": a.baseURL(r) + ImagePrefix + "/v2/"},
		}}
	}
	code := http.StatusMultipleChoices
	if r.URL.Path == ImagePrefix+"/versions" {
		code = http.StatusOK
	}
	writeJSON(w, code, map[string]any{"versions": []any{
		v2("v2.16", "CURRENT"), v2("v2.15", "SUPPORTED"), v2("v2.0", "SUPPORTED"),
	}})
}

func (a *API) imageView(im lab.Image) map[string]any {
	return map[string]any{
		"id":               im.ID,
		"name":             im.Name,
		"status":           "active",
		"visibility":       "public",
		"protected":        false,
		"os_hidden":        false,
		"disk_format":      "qcow2",
		"container_format": "bare",
		"min_disk":         0,
		"min_ram":          0,
		"size":             21430272,
		"virtual_size":     117440512,
		"checksum":         nil,
		"os_hash_algo":     nil,
		"os_hash_value":    nil,
		"owner":            a.creds.ProjectID,
		"tags":             []string{},
		"created_at":       imageEpoch,
		"updated_at":       imageEpoch,
		"self":             "/v2/images/" + im.ID,
		"file":             "/v2/images/" + im.ID + "/file",
		"schema":           "/v2/schemas/image",
	}
}

// listImages is GET /v2/images with the name, id and status filters clients use to find one.
func (a *API) listImages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := []any{}
	for _, im := range a.cloud.Images() {
		if name := q.Get("name"); name != "" && name != im.Name {
			continue
		}
		if id := q.Get("id"); id != "" && id != im.ID {
			continue
		}
		if st := q.Get("status"); st != "" && st != "active" {
			continue
		}
		out = append(out, a.imageView(im))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"images": out,
		"schema": "/v2/schemas/images",
		"first":  "/v2/images",
	})
}

func (a *API) showImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	im, ok := a.cloud.Image(id)
	if !ok {
		writeText(w, http.StatusNotFound, "404 Not Found\n\nNo image found with ID "+id+"\n\n   ")
		return
	}
	writeJSON(w, http.StatusOK, a.imageView(im))
}
