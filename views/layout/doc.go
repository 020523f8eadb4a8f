// Package layout holds what every page of Herald is built from, whoever
// it is for: the page skeletons shared by all (Head, AuthLayout and the
// error page), the partials (status badges, form fields, times, flash
// messages) and the view structs both audiences print (Chrome, Status,
// Time, IncidentView, MaintenanceView).
//
// Views receive values ready to print; they never query or decide
// permissions. This package imports only templ and the standard library;
// views/admin and views/site import it, and it imports neither.
package layout
