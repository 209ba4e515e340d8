package sinks

import "errors"

// FieldError is one invalid field of a sink's configuration.
type FieldError struct {
	// Field is the name of the field, such as "BufferBytes", or a path
	// through nested configs, such as "Encoder.Format".
	Field string
	// Msg says what is wrong with its value.
	Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Within returns err with every *FieldError in it (err may be joined)
// moved under parent: "Format" becomes "Encoder.Format".
func Within(parent string, err error) error {
	switch e := err.(type) {
	case nil:
		return nil
	case *FieldError:
		return &FieldError{Field: parent + "." + e.Field, Msg: e.Msg}
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		out := make([]error, len(errs))
		for i, x := range errs {
			out[i] = Within(parent, x)
		}
		return errors.Join(out...)
	}
	return err
}
