package cloud

import (
	"errors"
	"fmt"
)

// Kind classifies an error the way Nova's API layer does, so the HTTP layer can pick the status
// code and the fault name ({"badRequest": ...}, {"itemNotFound": ...}) without parsing text.
type Kind int

// Error kinds, each one HTTP status of Nova's.
const (
	BadRequest Kind = iota // 400
	NotFound               // 404
	Conflict               // 409
	Internal               // 500: Nova's "Unexpected API Error"
)

// Error is a request the cloud refused. Message is the text Nova would put in the fault body.
type Error struct {
	Kind    Kind
	Message string
	// Err is the underlying cause, if any (e.g. a *novaspec.MalformedAliasError).
	Err error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

func errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err, or Internal for an error the cloud did not classify.
func KindOf(err error) Kind {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return Internal
}
