package model

// ConversionKind is what an attribution report counts as a conversion.
type ConversionKind string

// The conversion kinds; docs/attribution.md ("In the product") defines them.
const (
	ConvOpportunity ConversionKind = "opportunity" // an opportunity created: pipeline
	ConvWon         ConversionKind = "won"         // an opportunity closed won: revenue
	ConvOrder       ConversionKind = "order"       // an order: revenue
	ConvMQL         ConversionKind = "mql"         // a person reaching MQL: a count
	ConvSQL         ConversionKind = "sql"         // a person reaching SQL: a count
)
