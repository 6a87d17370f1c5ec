// Nobuild does not build, on purpose: the checker must show the compiler's message.
package main

func main() {
	listen() // undefined: the compiler says so
}
