package main

const defaultStateDir = `C:\ProgramData\parc\agent`
