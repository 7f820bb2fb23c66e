// Command repro-kvalidate checks rendered Kubernetes manifests (a multi-document YAML stream on
// stdin, as `helm template` prints it) against the Kubernetes API types of k8s.io/api: each
// document is decoded strictly into its kind's Go type, so an unknown or misspelled field, a
// wrong type or a malformed quantity fails with the document's kind and name. KEDA's
// ScaledObject and TriggerAuthentication are decoded into the fields of KEDA's v1alpha1 API, and
// PodMonitor into prometheus-operator's v1, declared below (their Go packages bring the whole
// operators with them).
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

type kedaTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	MetricType        string            `json:"metricType,omitempty"`
	UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	} `json:"authenticationRef,omitempty"`
}

type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		ScaleTargetRef struct {
			Name                   string `json:"name"`
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef"`
		PollingInterval  *int32        `json:"pollingInterval,omitempty"`
		CooldownPeriod   *int32        `json:"cooldownPeriod,omitempty"`
		IdleReplicaCount *int32        `json:"idleReplicaCount,omitempty"`
		MinReplicaCount  *int32        `json:"minReplicaCount,omitempty"`
		MaxReplicaCount  *int32        `json:"maxReplicaCount,omitempty"`
		Triggers         []kedaTrigger `json:"triggers"`
		Advanced         *struct {
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
			// The HPA's behavior is k8s.io/api's own type (autoscaling/v2), decoded as strictly.
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name,omitempty"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
			ScalingModifiers *struct {
				Formula          string `json:"formula,omitempty"`
				Target           string `json:"target,omitempty"`
				ActivationTarget string `json:"activationTarget,omitempty"`
				MetricType       string `json:"metricType,omitempty"`
			} `json:"scalingModifiers,omitempty"`
		} `json:"advanced,omitempty"`
	} `json:"spec"`
}

type triggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef,omitempty"`
	} `json:"spec"`
}

// podMonitor: the fields of prometheus-operator's monitoring.coreos.com/v1 PodMonitor the chart may
// use (its Go module brings the operator with it).
type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel          string               `json:"jobLabel,omitempty"`
		PodTargetLabels   []string             `json:"podTargetLabels,omitempty"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		PodMetricsEndpoints []struct {
			Port          string `json:"port,omitempty"`
			Path          string `json:"path,omitempty"`
			Scheme        string `json:"scheme,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
			HonorLabels   bool   `json:"honorLabels,omitempty"`
		} `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

func target(apiVersion, kind string) (interface{}, bool) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "batch/v1/Job":
		return &batchv1.Job{}, true
	case "rbac.authorization.k8s.io/v1/Role":
		return &rbacv1.Role{}, true
	case "rbac.authorization.k8s.io/v1/RoleBinding":
		return &rbacv1.RoleBinding{}, true
	case "keda.sh/v1alpha1/ScaledObject":
		return &scaledObject{}, true
	case "keda.sh/v1alpha1/TriggerAuthentication":
		return &triggerAuthentication{}, true
	case "monitoring.coreos.com/v1/PodMonitor":
		return &podMonitor{}, true
	}
	return nil, false
}

// documents splits a YAML stream at `---` lines.
func documents(r io.Reader) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<24)
	for s.Scan() {
		line := s.Text()
		if strings.TrimRight(line, " ") == "---" {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.WriteString(line + "\n")
	}
	docs = append(docs, cur.Bytes())
	return docs, s.Err()
}

func main() {
	docs, err := documents(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reading stdin:", err)
		os.Exit(2)
	}
	// --to-json: the stream's documents as one JSON array (for tests that read rendered objects).
	if len(os.Args) > 1 && os.Args[1] == "--to-json" {
		var out [][]byte
		for _, doc := range docs {
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			j, err := yaml.YAMLToJSON(doc)
			if err != nil {
				fmt.Fprintln(os.Stderr, "yaml:", err)
				os.Exit(1)
			}
			out = append(out, j)
		}
		fmt.Printf("[%s]\n", bytes.Join(out, []byte(",")))
		return
	}
	failed, checked := 0, 0
	for _, doc := range docs {
		var head metav1.TypeMeta
		var meta struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil || head.Kind == "" {
			if len(bytes.TrimSpace(stripComments(doc))) > 0 {
				fmt.Fprintf(os.Stderr, "a document without apiVersion/kind: %v\n", err)
				failed++
			}
			continue
		}
		_ = yaml.Unmarshal(doc, &meta)
		obj, known := target(head.APIVersion, head.Kind)
		if !known {
			fmt.Fprintf(os.Stderr, "%s %s: kind not known to this validator\n", head.APIVersion, head.Kind)
			failed++
			continue
		}
		checked++
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			fmt.Fprintf(os.Stderr, "%s %s/%s: %v\n", head.APIVersion, head.Kind, meta.Metadata.Name, err)
			failed++
			continue
		}
		fmt.Printf("ok %s %s/%s\n", head.APIVersion, head.Kind, meta.Metadata.Name)
	}
	if failed > 0 || checked == 0 {
		fmt.Fprintf(os.Stderr, "%d of %d documents invalid\n", failed, len(docs))
		os.Exit(1)
	}
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(string(doc), "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			out.WriteString(line + "\n")
		}
	}
	return out.Bytes()
}
