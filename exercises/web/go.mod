module chatbook/exercises/web

go 1.24.0

require (
	github.com/coder/websocket v1.8.14
	github.com/stretchr/testify v1.8.0
	golang.org/x/sync v0.19.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	go.uber.org/goleak v1.3.0
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
