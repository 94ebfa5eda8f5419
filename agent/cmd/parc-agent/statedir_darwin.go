package main

const defaultStateDir = "/Library/Application Support/parc-agent"
