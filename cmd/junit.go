package cmd

import (
	"encoding/xml"
	"io"
	"slices"
	"strings"
)

// The JUnit XML that CI systems read (Jenkins, GitLab, Azure, the GitHub
// test-report actions): testsuites > testsuite > testcase, a failure or
// skipped element per test case. Only attributes of the common schema.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemErr  *junitText      `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Skipped   *junitMessage `xml:"skipped"`
	Failure   *junitMessage `xml:"failure"`
	SystemOut *junitText    `xml:"system-out"`
}

// Texts are CDATA, so that their lines stay lines for whoever reads the
// report raw.
type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

// safeLines is safeText line by line: a text's own line breaks stay.
func safeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safeText(l)
	}
	return strings.Join(lines, "\n")
}

func safeMessage(m *junitMessage) *junitMessage {
	if m == nil {
		return nil
	}
	return &junitMessage{Message: safeText(m.Message), Type: safeText(m.Type), Text: safeLines(m.Text)}
}

func safeJUnitText(t *junitText) *junitText {
	if t == nil {
		return nil
	}
	return &junitText{safeLines(t.Text)}
}

// writeJUnit writes doc as an indented JUnit XML document. Every text goes
// through safeText first: XML 1.0 has no way to write most control
// characters (CDATA included), so raw ones from span names make the file
// unreadable to CI.
func writeJUnit(w io.Writer, doc junitSuites) error {
	doc.Name = safeText(doc.Name)
	suites := make([]junitSuite, len(doc.Suites))
	for i, s := range doc.Suites {
		s.Name = safeText(s.Name)
		s.Properties = slices.Clone(s.Properties)
		for k := range s.Properties {
			s.Properties[k].Name, s.Properties[k].Value = safeText(s.Properties[k].Name), safeText(s.Properties[k].Value)
		}
		s.Cases = slices.Clone(s.Cases)
		for k := range s.Cases {
			c := &s.Cases[k]
			c.Name, c.Classname = safeText(c.Name), safeText(c.Classname)
			c.Skipped, c.Failure = safeMessage(c.Skipped), safeMessage(c.Failure)
			c.SystemOut = safeJUnitText(c.SystemOut)
		}
		s.SystemErr = safeJUnitText(s.SystemErr)
		suites[i] = s
	}
	doc.Suites = suites
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
