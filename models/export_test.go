package models

// CheckChannelURL is checkChannelURL, for the tests of package models_test.
var CheckChannelURL = checkChannelURL
