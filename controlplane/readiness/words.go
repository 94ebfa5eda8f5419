package readiness

import "strings"

// Measured values and thresholds are stored language-neutral, with words
// as {tokens}; they are put in the reader's language when shown, so that
// every word a technician reads exists in French and English.
var words = map[string][2]string{ // en, fr
	"{security_not_told_apart}": {"(security updates not told apart)", "(sécurité non distinguée)"},
	"{never}":                   {"never", "jamais"},
	"{yes}":                     {"yes", "oui"},
	"{no}":                      {"no", "non"},
	"{none}":                    {"none", "aucun"},
	"{running}":                 {"running", "en marche"},
	"{installed_not_running}":   {"installed, not running", "installé, arrêté"},
	"{one_tool_running}":        {"one accepted tool running", "un outil accepté en marche"},
	"{one_of}":                  {"one of", "l'un de"},
	"{all_present}":             {"all present", "tous présents"},
	"{missing}":                 {"missing", "manquant :"},
	"{measured_within}":         {"measured within", "mesuré depuis moins de"},
	"{taken}":                   {"measured", "mesuré il y a"},
	"{ago}":                     {"ago", ""},
	"{no_battery}":              {"no battery found", "aucune batterie détectée"},
	"{free_on}":                 {"free on", "libres sur"},
	"{no_sigdb}":                {"no signature database", "aucune base de signatures"},
	"{inputs}":                  {"inputs", "entrées"},
	"{outputs}":                 {"outputs", "sorties"},
	"{mic_and_speaker}":         {"a microphone and a speaker or headset", "un micro et un haut-parleur ou un casque"},
	"{of_design}":               {"of design capacity", "de la capacité d'origine"},
	"{below}":                   {"below", "moins de"},
	"{cycles}":                  {"cycles", "cycles"},
	"{days}":                    {"days", "jours"},
}

var translators = func() [2]*strings.Replacer {
	var en, fr []string
	for token, w := range words {
		en = append(en, token, w[0])
		fr = append(fr, token, w[1])
	}
	return [2]*strings.Replacer{strings.NewReplacer(en...), strings.NewReplacer(fr...)}
}()

// Translate puts a stored measured value or threshold in lang.
func Translate(s, lang string) string {
	i := 0
	if lang == "fr" {
		i = 1
	}
	out := translators[i].Replace(s)
	// "{ago}" is empty in French ("mesuré il y a 3 jours"): tidy the space.
	return strings.Join(strings.Fields(out), " ")
}
