// The Helm chart (helm/signoff): `helm lint` and `helm template` with the
// default values and with ci/production-values.yaml, the rendered objects
// read back with yaml-cpp, and bad values refused by the schema.
//
// helm comes from tests/helm/fetch-helm.sh, which `make test` runs; the
// SIGNOFF_HELM environment variable names another helm binary.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace {

// A node that is there: yaml-cpp's default node is null, yet "defined".
bool Present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

std::string HelmPath() {
  const char* env = std::getenv("SIGNOFF_HELM");
  if (env != nullptr && *env != '\0') return env;
  return SIGNOFF_HELM_BINARY;
}

std::string ChartDir() { return std::string(SIGNOFF_SOURCE_DIR) + "/helm/signoff"; }

std::string ProductionValues() { return ChartDir() + "/ci/production-values.yaml"; }

struct HelmRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs helm with `args`, its stdout and stderr caught in files (no pipe to
// fill up), in a scratch HELM_*_HOME so that nothing of the user's is read.
HelmRun Helm(const std::vector<std::string>& args) {
  HelmRun run;
  char scratch[] = "/tmp/signoff-helm-test-XXXXXX";
  if (mkdtemp(scratch) == nullptr) {
    run.err = std::string("mkdtemp: ") + std::strerror(errno);
    return run;
  }
  const std::string dir = scratch;
  const std::string out_path = dir + "/stdout";
  const std::string err_path = dir + "/stderr";
  const std::string helm = HelmPath();
  std::vector<std::string> argv_strings = {helm};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0) _exit(126);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    setenv("HELM_CACHE_HOME", (dir + "/cache").c_str(), 1);
    setenv("HELM_CONFIG_HOME", (dir + "/config").c_str(), 1);
    setenv("HELM_DATA_HOME", (dir + "/data").c_str(), 1);
    unsetenv("HELM_NAMESPACE");
    unsetenv("KUBECONFIG");
    execv(helm.c_str(), argv.data());
    std::fprintf(stderr, "exec %s: %s\n", helm.c_str(), std::strerror(errno));
    _exit(127);
  }
  if (pid < 0) {
    run.err = std::string("fork: ") + std::strerror(errno);
    return run;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = ReadWhole(out_path);
  run.err = ReadWhole(err_path);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return run;
}

std::string Describe(const std::vector<std::string>& args, const HelmRun& run) {
  std::ostringstream text;
  text << "helm";
  for (const auto& arg : args) text << ' ' << arg;
  text << "\nexit " << run.exit_code << "\nstderr:\n" << run.err;
  return text.str();
}

struct Rendered {
  std::string text;
  std::vector<YAML::Node> docs;

  std::vector<YAML::Node> OfKind(const std::string& kind) const {
    std::vector<YAML::Node> found;
    for (const auto& doc : docs) {
      if (doc["kind"] && doc["kind"].as<std::string>() == kind) found.push_back(doc);
    }
    return found;
  }
  YAML::Node One(const std::string& kind) const {
    auto found = OfKind(kind);
    return found.size() == 1 ? found[0] : YAML::Node();
  }
};

// Every Pod spec rendered: the Deployment's and the Job's.
std::vector<YAML::Node> PodSpecs(const Rendered& rendered) {
  std::vector<YAML::Node> specs;
  for (const char* kind : {"Deployment", "Job", "StatefulSet", "DaemonSet"}) {
    for (const auto& doc : rendered.OfKind(kind)) specs.push_back(doc["spec"]["template"]["spec"]);
  }
  return specs;
}

std::vector<YAML::Node> Containers(const YAML::Node& pod_spec) {
  std::vector<YAML::Node> all;
  for (const char* list : {"initContainers", "containers"}) {
    if (!pod_spec[list]) continue;
    for (const auto& container : pod_spec[list]) all.push_back(container);
  }
  return all;
}

YAML::Node Container(const YAML::Node& pod_spec, const std::string& name) {
  for (const auto& container : Containers(pod_spec)) {
    if (container["name"].as<std::string>() == name) return container;
  }
  return YAML::Node();
}

std::vector<std::string> Args(const YAML::Node& container) {
  std::vector<std::string> args;
  if (container["args"]) {
    for (const auto& arg : container["args"]) args.push_back(arg.as<std::string>());
  }
  return args;
}

bool HasArg(const YAML::Node& container, const std::string& arg) {
  const auto args = Args(container);
  return std::find(args.begin(), args.end(), arg) != args.end();
}

bool HasArgStartingWith(const YAML::Node& container, const std::string& prefix) {
  for (const auto& arg : Args(container)) {
    if (arg.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

YAML::Node Volume(const YAML::Node& pod_spec, const std::string& name) {
  for (const auto& volume : pod_spec["volumes"]) {
    if (volume["name"].as<std::string>() == name) return volume;
  }
  return YAML::Node();
}

std::string MountPath(const YAML::Node& container, const std::string& volume) {
  for (const auto& mount : container["volumeMounts"]) {
    if (mount["name"].as<std::string>() == volume) return mount["mountPath"].as<std::string>();
  }
  return "";
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

class HelmChartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string helm = HelmPath();
    ASSERT_EQ(access(helm.c_str(), X_OK), 0)
        << "helm not found at " << helm
        << ": run `make test`, which fetches it (tests/helm/fetch-helm.sh), or set SIGNOFF_HELM";
  }

  // `helm template` under a fixed release name and namespace; the test fails
  // when helm does, or when the output is not YAML.
  Rendered Template(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"template", "signoff", ChartDir(), "--namespace", "signoff"};
    args.insert(args.end(), extra.begin(), extra.end());
    const HelmRun run = Helm(args);
    Rendered rendered;
    EXPECT_EQ(run.exit_code, 0) << Describe(args, run);
    rendered.text = run.out;
    try {
      for (const auto& doc : YAML::LoadAll(run.out)) {
        if (doc.IsMap()) rendered.docs.push_back(doc);
      }
    } catch (const YAML::Exception& error) {
      ADD_FAILURE() << "helm template's output is not YAML: " << error.what() << "\n" << run.out;
    }
    EXPECT_FALSE(rendered.docs.empty()) << Describe(args, run);
    return rendered;
  }

  Rendered Default() { return Template({}); }
  Rendered Production() { return Template({"-f", ProductionValues()}); }

  // The checks every rendering passes: the server container's probes and
  // hardening, and no secret written into the manifests.
  void ExpectSafeServer(const Rendered& rendered) {
    const YAML::Node deployment = rendered.One("Deployment");
    ASSERT_TRUE(Present(deployment)) << "one Deployment expected\n" << rendered.text;
    const YAML::Node pod = deployment["spec"]["template"]["spec"];
    const YAML::Node signoffd = Container(pod, "signoffd");
    ASSERT_TRUE(Present(signoffd)) << "no signoffd container";

    EXPECT_TRUE(Present(signoffd["livenessProbe"]["grpc"])) << "liveness is not a gRPC probe";
    EXPECT_EQ(signoffd["livenessProbe"]["grpc"]["service"].as<std::string>(""), "liveness");
    EXPECT_TRUE(Present(signoffd["readinessProbe"]["grpc"])) << "readiness is not a gRPC probe";
    EXPECT_EQ(signoffd["readinessProbe"]["grpc"]["service"].as<std::string>(""), "readiness");
    EXPECT_EQ(signoffd["startupProbe"]["grpc"]["service"].as<std::string>(""), "liveness");

    EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>(false));
    EXPECT_GT(pod["securityContext"]["runAsUser"].as<int>(0), 0);
    EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"].as<std::string>(""),
              "RuntimeDefault");
    EXPECT_FALSE(pod["automountServiceAccountToken"].as<bool>(true));
    for (const auto& spec : PodSpecs(rendered)) {
      for (const auto& container : Containers(spec)) {
        const std::string name = container["name"].as<std::string>();
        const YAML::Node security = container["securityContext"];
        EXPECT_TRUE(security["runAsNonRoot"].as<bool>(false)) << name;
        EXPECT_TRUE(security["readOnlyRootFilesystem"].as<bool>(false)) << name;
        EXPECT_FALSE(security["allowPrivilegeEscalation"].as<bool>(true)) << name;
        ASSERT_TRUE(Present(security["capabilities"]["drop"])) << name;
        EXPECT_EQ(security["capabilities"]["drop"][0].as<std::string>(""), "ALL") << name;
        EXPECT_TRUE(Present(container["resources"]["requests"])) << name << " has no resource requests";
      }
    }
    // A writable /tmp on a read-only root.
    EXPECT_EQ(MountPath(signoffd, "tmp"), "/tmp");
    EXPECT_TRUE(Present(Volume(pod, "tmp")["emptyDir"]));

    // The production path: JWT and TLS, from Secrets mounted as files.
    EXPECT_TRUE(HasArg(signoffd, "--auth=jwt"));
    EXPECT_TRUE(HasArgStartingWith(signoffd, "--jwks-file=" + MountPath(signoffd, "jwks")));
    EXPECT_TRUE(Present(Volume(pod, "jwks")["secret"]["secretName"]));
    EXPECT_TRUE(HasArgStartingWith(signoffd, "--tls-cert-file=" + MountPath(signoffd, "tls")));
    EXPECT_TRUE(HasArgStartingWith(signoffd, "--tls-key-file=" + MountPath(signoffd, "tls")));
    EXPECT_TRUE(Present(Volume(pod, "tls")["secret"]["secretName"]));
    EXPECT_TRUE(HasArg(signoffd, "--max-connection-age=300s"));
    EXPECT_FALSE(HasArgStartingWith(signoffd, "--auth=dev"));

    // Configuration changes roll the pods.
    EXPECT_TRUE(Present(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]));

    ExpectNoInlinedSecret(rendered);
  }

  // Secrets are referenced, never written into the manifests: no Secret
  // object, no database URL anywhere, no environment value holding a URL or
  // a password, and the database named by --db-file, not --db, with a URL.
  void ExpectNoInlinedSecret(const Rendered& rendered) {
    EXPECT_TRUE(rendered.OfKind("Secret").empty()) << "the chart renders a Secret";
    EXPECT_EQ(rendered.text.find("postgresql://"), std::string::npos);
    EXPECT_EQ(rendered.text.find("postgres://"), std::string::npos);
    for (const auto& spec : PodSpecs(rendered)) {
      for (const auto& container : Containers(spec)) {
        const std::string name = container["name"].as<std::string>();
        if (container["env"]) {
          for (const auto& env : container["env"]) {
            const std::string var = env["name"].as<std::string>();
            EXPECT_NE(var, "SIGNOFF_DB") << name;
            if (!env["value"]) continue;
            const std::string value = Lower(env["value"].as<std::string>());
            EXPECT_EQ(value.find("://"), std::string::npos) << name << " " << var;
            EXPECT_EQ(value.find("password"), std::string::npos) << name << " " << var;
          }
        }
        for (const auto& arg : Args(container)) {
          if (arg.rfind("--db=", 0) == 0) {
            EXPECT_EQ(arg.find("://"), std::string::npos) << name << ": " << arg;
          }
          EXPECT_EQ(Lower(arg).find("password"), std::string::npos) << name << ": " << arg;
        }
      }
    }
  }
};

TEST_F(HelmChartTest, LintsWithDefaultValues) {
  const std::vector<std::string> args = {"lint", "--strict", ChartDir()};
  const HelmRun run = Helm(args);
  EXPECT_EQ(run.exit_code, 0) << Describe(args, run) << run.out;
  EXPECT_NE(run.out.find("0 chart(s) failed"), std::string::npos) << run.out;
}

TEST_F(HelmChartTest, LintsWithProductionValues) {
  const std::vector<std::string> args = {"lint", "--strict", ChartDir(), "-f", ProductionValues()};
  const HelmRun run = Helm(args);
  EXPECT_EQ(run.exit_code, 0) << Describe(args, run) << run.out;
  EXPECT_NE(run.out.find("0 chart(s) failed"), std::string::npos) << run.out;
}

TEST_F(HelmChartTest, DefaultValuesRenderOneSqliteReplicaOnAVolume) {
  const Rendered rendered = Default();
  ExpectSafeServer(rendered);
  const YAML::Node deployment = rendered.One("Deployment");
  ASSERT_TRUE(Present(deployment));
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(0), 1);
  EXPECT_EQ(deployment["spec"]["strategy"]["type"].as<std::string>(""), "Recreate");
  EXPECT_TRUE(rendered.OfKind("HorizontalPodAutoscaler").empty());
  EXPECT_TRUE(rendered.OfKind("PodDisruptionBudget").empty());
  EXPECT_TRUE(rendered.OfKind("ServiceMonitor").empty());
  EXPECT_TRUE(rendered.OfKind("NetworkPolicy").empty());

  // The data folder is the claim, and the database file lies in it.
  const YAML::Node claim = rendered.One("PersistentVolumeClaim");
  ASSERT_TRUE(Present(claim)) << "no PersistentVolumeClaim\n" << rendered.text;
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  EXPECT_EQ(Volume(pod, "data")["persistentVolumeClaim"]["claimName"].as<std::string>(""),
            claim["metadata"]["name"].as<std::string>());
  const YAML::Node signoffd = Container(pod, "signoffd");
  const std::string data = MountPath(signoffd, "data");
  EXPECT_FALSE(data.empty());
  EXPECT_TRUE(HasArgStartingWith(signoffd, "--db=" + data + "/"));
  EXPECT_FALSE(HasArgStartingWith(signoffd, "--db-file="));

  // Kubernetes probes the port signoffd serves on, on every address.
  EXPECT_EQ(signoffd["livenessProbe"]["grpc"]["port"].as<int>(0), 50051);
  EXPECT_TRUE(HasArg(signoffd, "--listen=0.0.0.0:50051"));
  EXPECT_EQ(rendered.One("Service")["spec"]["ports"][0]["targetPort"].as<std::string>(""), "grpc");

  // SQLite migrates in the pod that owns the volume, not in a hook Job.
  EXPECT_TRUE(rendered.OfKind("Job").empty());
  const YAML::Node migrate = Container(pod, "migrate");
  ASSERT_TRUE(Present(migrate)) << "no migrate init container";
  EXPECT_EQ(Args(migrate).at(0), "migrate");
  EXPECT_EQ(MountPath(migrate, "data"), data);
  EXPECT_FALSE(Present(Container(pod, "envoy")));
}

TEST_F(HelmChartTest, SqliteModeStaysOneReplicaWhateverTheValues) {
  const Rendered rendered =
      Template({"--set", "replicaCount=3", "--set", "autoscaling.enabled=true"});
  const YAML::Node deployment = rendered.One("Deployment");
  ASSERT_TRUE(Present(deployment));
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(0), 1);
  EXPECT_TRUE(rendered.OfKind("HorizontalPodAutoscaler").empty());
  EXPECT_TRUE(rendered.OfKind("PodDisruptionBudget").empty());
}

TEST_F(HelmChartTest, ProductionValuesRenderTheGuardRails) {
  const Rendered rendered = Production();
  ExpectSafeServer(rendered);
  const YAML::Node deployment = rendered.One("Deployment");
  ASSERT_TRUE(Present(deployment));
  const std::string name = deployment["metadata"]["name"].as<std::string>();
  EXPECT_FALSE(Present(deployment["spec"]["replicas"])) << "replicas are the autoscaler's";
  EXPECT_EQ(deployment["spec"]["strategy"]["type"].as<std::string>(""), "RollingUpdate");
  EXPECT_TRUE(rendered.OfKind("PersistentVolumeClaim").empty());

  const YAML::Node hpa = rendered.One("HorizontalPodAutoscaler");
  ASSERT_TRUE(Present(hpa)) << "no HorizontalPodAutoscaler";
  EXPECT_EQ(hpa["apiVersion"].as<std::string>(), "autoscaling/v2");
  EXPECT_EQ(hpa["spec"]["scaleTargetRef"]["name"].as<std::string>(""), name);
  EXPECT_EQ(hpa["spec"]["minReplicas"].as<int>(0), 3);

  const YAML::Node pdb = rendered.One("PodDisruptionBudget");
  ASSERT_TRUE(Present(pdb)) << "no PodDisruptionBudget";
  EXPECT_EQ(pdb["apiVersion"].as<std::string>(), "policy/v1");

  // No HTTP listener to scrape yet.
  EXPECT_TRUE(rendered.OfKind("ServiceMonitor").empty());

  const YAML::Node policy = rendered.One("NetworkPolicy");
  ASSERT_TRUE(Present(policy)) << "no NetworkPolicy";
  std::vector<int> ingress_ports;
  for (const auto& rule : policy["spec"]["ingress"]) {
    for (const auto& port : rule["ports"]) ingress_ports.push_back(port["port"].as<int>());
  }
  EXPECT_NE(std::find(ingress_ports.begin(), ingress_ports.end(), 8443), ingress_ports.end())
      << "Envoy's port is not open";
  EXPECT_EQ(std::find(ingress_ports.begin(), ingress_ports.end(), 50051), ingress_ports.end())
      << "signoffd's own port is open past Envoy";
}

TEST_F(HelmChartTest, AServiceMonitorScrapesTheHttpPortWhenBothAreOn) {
  const Rendered rendered = Template({"-f", ProductionValues(), "--set", "http.enabled=true",
                                      "--set", "serviceMonitor.enabled=true"});
  const YAML::Node monitor = rendered.One("ServiceMonitor");
  ASSERT_TRUE(Present(monitor)) << "no ServiceMonitor";
  EXPECT_EQ(monitor["apiVersion"].as<std::string>(), "monitoring.coreos.com/v1");
  EXPECT_EQ(monitor["spec"]["endpoints"][0]["port"].as<std::string>(""), "http");
}

TEST_F(HelmChartTest, ProductionDatabaseUrlComesFromTheSecretFile) {
  const Rendered rendered = Production();
  const YAML::Node deployment = rendered.One("Deployment");
  ASSERT_TRUE(Present(deployment));
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  const YAML::Node signoffd = Container(pod, "signoffd");
  EXPECT_EQ(Volume(pod, "db")["secret"]["secretName"].as<std::string>(""), "signoff-db");
  const std::string db = MountPath(signoffd, "db");
  ASSERT_FALSE(db.empty());
  EXPECT_TRUE(HasArgStartingWith(signoffd, "--db-file=" + db + "/"));
  EXPECT_FALSE(HasArgStartingWith(signoffd, "--db="));

  // The migrate hook reads the same file, before install and upgrade.
  const YAML::Node job = rendered.One("Job");
  ASSERT_TRUE(Present(job)) << "no migrate Job";
  const YAML::Node annotations = job["metadata"]["annotations"];
  EXPECT_EQ(annotations["helm.sh/hook"].as<std::string>(""), "pre-install,pre-upgrade");
  const std::string deletion = annotations["helm.sh/hook-delete-policy"].as<std::string>("");
  EXPECT_NE(deletion.find("before-hook-creation"), std::string::npos) << deletion;
  EXPECT_NE(deletion.find("hook-succeeded"), std::string::npos) << deletion;
  const YAML::Node job_pod = job["spec"]["template"]["spec"];
  const YAML::Node migrate = Container(job_pod, "migrate");
  ASSERT_TRUE(Present(migrate));
  EXPECT_EQ(Args(migrate).at(0), "migrate");
  EXPECT_TRUE(HasArgStartingWith(migrate, "--db-file=" + MountPath(migrate, "db") + "/"));
  EXPECT_EQ(Volume(job_pod, "db")["secret"]["secretName"].as<std::string>(""), "signoff-db");
  EXPECT_EQ(job_pod["restartPolicy"].as<std::string>(""), "Never");
}

TEST_F(HelmChartTest, ProductionServiceGoesThroughEnvoy) {
  const Rendered rendered = Production();
  const YAML::Node deployment = rendered.One("Deployment");
  ASSERT_TRUE(Present(deployment));
  const YAML::Node pod = deployment["spec"]["template"]["spec"];
  const YAML::Node envoy = Container(pod, "envoy");
  ASSERT_TRUE(Present(envoy)) << "no envoy container";
  const YAML::Node signoffd = Container(pod, "signoffd");

  // The Service's gRPC port leads to one of Envoy's ports.
  const YAML::Node service = rendered.One("Service");
  ASSERT_TRUE(Present(service));
  std::string target;
  for (const auto& port : service["spec"]["ports"]) {
    if (port["name"].as<std::string>() == "grpc") target = port["targetPort"].as<std::string>();
  }
  int envoy_port = 0;
  int probe_port = 0;
  for (const auto& port : envoy["ports"]) {
    if (port["name"].as<std::string>() == target || port["containerPort"].as<std::string>() == target) {
      envoy_port = port["containerPort"].as<int>();
    }
    if (port["name"].as<std::string>() == "envoy-probe") probe_port = port["containerPort"].as<int>();
  }
  EXPECT_EQ(envoy_port, 8443) << "the Service's gRPC port targets '" << target
                              << "', not Envoy's client port";

  // signoffd is reachable only through Envoy; the kubelet's plaintext
  // probes go through Envoy's probe port.
  EXPECT_TRUE(HasArg(signoffd, "--listen=127.0.0.1:50051"));
  EXPECT_NE(probe_port, 0);
  EXPECT_EQ(signoffd["livenessProbe"]["grpc"]["port"].as<int>(0), probe_port);
  EXPECT_EQ(signoffd["readinessProbe"]["grpc"]["port"].as<int>(0), probe_port);
  EXPECT_TRUE(Present(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/envoy"]));

  // Envoy's configuration: proxies HTTP/2 to signoffd on loopback, with
  // limits on connections, streams and buffers, and the connection age.
  YAML::Node envoy_config;
  for (const auto& map : rendered.OfKind("ConfigMap")) {
    if (map["data"]["envoy.yaml"]) envoy_config = YAML::Load(map["data"]["envoy.yaml"].as<std::string>());
  }
  ASSERT_TRUE(Present(envoy_config)) << "no ConfigMap with envoy.yaml";
  EXPECT_EQ(envoy_config["admin"]["address"]["socket_address"]["address"].as<std::string>(""),
            "127.0.0.1");
  EXPECT_GT(envoy_config["overload_manager"]["resource_monitors"][0]["typed_config"]
                        ["max_active_downstream_connections"].as<int>(0), 0);
  const YAML::Node cluster = envoy_config["static_resources"]["clusters"][0];
  const YAML::Node upstream = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
                                     ["endpoint"]["address"]["socket_address"];
  EXPECT_EQ(upstream["address"].as<std::string>(""), "127.0.0.1");
  EXPECT_EQ(upstream["port_value"].as<int>(0), 50051);
  EXPECT_TRUE(Present(cluster["typed_extension_protocol_options"]
                             ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
                             ["explicit_http_config"]["http2_protocol_options"]));
  bool client_listener = false;
  for (const auto& listener : envoy_config["static_resources"]["listeners"]) {
    if (listener["address"]["socket_address"]["port_value"].as<int>(0) != 8443) continue;
    client_listener = true;
    EXPECT_GT(listener["per_connection_buffer_limit_bytes"].as<int>(0), 0);
    const YAML::Node chain = listener["filter_chains"][0];
    EXPECT_TRUE(Present(chain["transport_socket"])) << "clients' TLS does not end at Envoy";
    const YAML::Node manager = chain["filters"][0]["typed_config"];
    EXPECT_EQ(manager["codec_type"].as<std::string>(""), "HTTP2");
    EXPECT_EQ(manager["http2_protocol_options"]["max_concurrent_streams"].as<int>(0), 100);
    EXPECT_GT(manager["http2_protocol_options"]["initial_stream_window_size"].as<int>(0), 0);
    EXPECT_EQ(manager["common_http_protocol_options"]["max_connection_duration"].as<std::string>(""),
              "300s");
  }
  EXPECT_TRUE(client_listener) << "no Envoy listener on 8443";
}

TEST_F(HelmChartTest, ConfigurationContentsBecomeAConfigMapAndFlags) {
  const Rendered rendered = Template({
      "--set-string", "config.organisation=departments: []",
      "--set-string", "config.definitions.expense-claim\\.yaml=key: expense-claim",
      "--set-string", "config.calendars.cn-mainland\\.yaml=name: cn-mainland",
  });
  YAML::Node config;
  for (const auto& map : rendered.OfKind("ConfigMap")) {
    if (map["data"]["organisation.yaml"]) config = map;
  }
  ASSERT_TRUE(Present(config)) << rendered.text;
  EXPECT_TRUE(Present(config["data"]["definition.expense-claim.yaml"]));
  EXPECT_TRUE(Present(config["data"]["calendar.cn-mainland.yaml"]));
  const YAML::Node pod = rendered.One("Deployment")["spec"]["template"]["spec"];
  const YAML::Node signoffd = Container(pod, "signoffd");
  const std::string dir = MountPath(signoffd, "config");
  EXPECT_TRUE(HasArg(signoffd, "--directory=" + dir + "/organisation.yaml"));
  EXPECT_TRUE(HasArg(signoffd, "--definitions=" + dir + "/definitions"));
  EXPECT_TRUE(HasArg(signoffd, "--calendars=" + dir + "/calendars"));
  EXPECT_EQ(Volume(pod, "config")["configMap"]["name"].as<std::string>(""),
            config["metadata"]["name"].as<std::string>());
}

// Values the schema (or a template's check) refuses, and the key that the
// error must name.
struct BadValues {
  const char* label;
  std::vector<std::string> args;
  const char* key;
};

void PrintTo(const BadValues& bad, std::ostream* out) { *out << bad.label; }

class HelmBadValuesTest : public HelmChartTest, public ::testing::WithParamInterface<BadValues> {};

TEST_P(HelmBadValuesTest, AreRefusedNamingTheKey) {
  std::vector<std::string> args = {"template", "signoff", ChartDir()};
  args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
  const HelmRun run = Helm(args);
  EXPECT_NE(run.exit_code, 0) << "accepted:\n" << Describe(args, run);
  EXPECT_NE(run.err.find(GetParam().key), std::string::npos)
      << "the error does not name " << GetParam().key << "\n" << Describe(args, run);
}

const std::vector<std::string> kPostgresql = {
    "--set", "database.mode=postgresql", "--set", "database.postgresql.urlSecret.name=signoff-db"};

std::vector<std::string> Postgresql(std::vector<std::string> more) {
  more.insert(more.begin(), kPostgresql.begin(), kPostgresql.end());
  return more;
}

INSTANTIATE_TEST_SUITE_P(
    Schema, HelmBadValuesTest,
    ::testing::Values(
        BadValues{"NegativeReplicas", {"--set", "replicaCount=-1"}, "replicaCount"},
        BadValues{"UnknownDatabaseMode", {"--set", "database.mode=mysql"}, "database.mode"},
        BadValues{"MisspeltTopLevelKey", {"--set", "replicaCont=2"}, "replicaCont"},
        BadValues{"PostgresqlWithoutSecret",
                  {"--set", "database.mode=postgresql"},
                  "database.postgresql.urlSecret.name"},
        BadValues{"InlinedDatabaseUrl",
                  Postgresql({"--set", "database.postgresql.url=postgresql://u:p@db/signoff"}),
                  "url"},
        BadValues{"DevAuth", {"--set", "auth.mode=dev"}, "auth.mode"},
        BadValues{"StringForBoolean", {"--set", "envoy.enabled=yes"}, "envoy.enabled"},
        BadValues{"NegativeConnectionAge",
                  {"--set", "maxConnectionAgeSeconds=-5"},
                  "maxConnectionAgeSeconds"},
        BadValues{"PortOutOfRange", {"--set", "grpc.port=70000"}, "grpc.port"},
        BadValues{"ServiceMonitorWithoutHttp",
                  {"--set", "serviceMonitor.enabled=true"},
                  "serviceMonitor.enabled"},
        BadValues{"AutoscalingBounds",
                  Postgresql({"--set", "autoscaling.enabled=true", "--set",
                              "autoscaling.minReplicas=5", "--set", "autoscaling.maxReplicas=2"}),
                  "autoscaling.minReplicas"},
        BadValues{"DefinitionFileName",
                  {"--set-string", "config.definitions.notes\\.txt=x"},
                  "config.definitions"}),
    [](const ::testing::TestParamInfo<BadValues>& info) { return std::string(info.param.label); });

}  // namespace
