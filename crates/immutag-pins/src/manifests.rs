//! The YAML and JSON file kinds: which kind a document is (by its content), and where its
//! image references are.
//!
//! | kind | recognised by | references |
//! |---|---|---|
//! | CloudFormation | `AWSTemplateFormatVersion`, or `Resources` with `Type: AWS::...` | `AWS::ECS::TaskDefinition` `Properties.ContainerDefinitions[].Image` |
//! | ECS task definition | `containerDefinitions` (or `taskDefinition.containerDefinitions`) | `containerDefinitions[].image` |
//! | Kubernetes | `apiVersion` and `kind` | `image` of every item of `containers`, `initContainers`, `ephemeralContainers`, at any depth (every workload kind, `List`, CRDs that embed a pod template) |
//! | GitHub Actions | `jobs` (workflow) or `runs.using` (action) | `jobs.*.container` (string or `.image`), `jobs.*.services.*.image`, `steps[].uses: docker://...`, `runs.image: docker://...` |
//! | Compose | `services` whose values are mappings | `services.*.image`, except a service that also has `build` (there `image` names the build's result) |

use crate::pin::{FileKind, Found, Target};
use crate::vars::{self, Escape};
use crate::yaml::{Node, Scalar};

/// The kind of one document, from its content.
pub(crate) fn classify(doc: &Node) -> Option<FileKind> {
    if !matches!(doc, Node::Map(..)) {
        return None;
    }
    let resources_typed = doc.get("Resources").is_some_and(|r| {
        r.entries().iter().any(|(_, v)| {
            v.get("Type")
                .and_then(Node::str)
                .is_some_and(|t| t.starts_with("AWS::") || t.starts_with("Custom::"))
        })
    });
    if doc.get("AWSTemplateFormatVersion").is_some() || resources_typed {
        return Some(FileKind::Cloudformation);
    }
    let task = doc.get("taskDefinition").unwrap_or(doc);
    if matches!(task.get("containerDefinitions"), Some(Node::Seq(..))) {
        return Some(FileKind::EcsTaskDefinition);
    }
    if doc.get("apiVersion").and_then(Node::str).is_some()
        && doc.get("kind").and_then(Node::str).is_some()
    {
        return Some(FileKind::Kubernetes);
    }
    if matches!(doc.get("jobs"), Some(Node::Map(..)))
        || doc.get("runs").and_then(|r| r.get("using")).is_some()
    {
        return Some(FileKind::GithubActions);
    }
    if let Some(Node::Map(services, _)) = doc.get("services")
        && !services.is_empty()
        && services
            .iter()
            .all(|(_, v)| matches!(v, Node::Map(..) | Node::Scalar(_)))
    {
        return Some(FileKind::Compose);
    }
    None
}

/// The references of one document of kind `kind`.
pub(crate) fn find(kind: FileKind, doc: &Node, source: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let mut cx = Cx {
        source,
        out: &mut out,
    };
    match kind {
        FileKind::Compose => compose(&mut cx, doc),
        FileKind::Kubernetes => kubernetes(&mut cx, doc, &k8s_label(doc)),
        FileKind::EcsTaskDefinition => {
            let task = doc.get("taskDefinition").unwrap_or(doc);
            containers_ecs(
                &mut cx,
                task.get("containerDefinitions"),
                "containerDefinitions",
                "image",
                "name",
                &plain,
            );
        }
        FileKind::Cloudformation => cloudformation(&mut cx, doc),
        FileKind::GithubActions => actions(&mut cx, doc),
        FileKind::Dockerfile => {}
    }
    out
}

struct Cx<'a> {
    source: &'a str,
    out: &'a mut Vec<Found>,
}

type Expand = dyn Fn(&str) -> Result<String, String>;

impl Cx<'_> {
    /// A reference written as the value `node` of `key`; `skip` bytes of the scalar (a
    /// `docker://` prefix) are not part of it.
    fn push(&mut self, key: &Scalar, node: &Node, context: String, skip: usize, expand: &Expand) {
        match node {
            Node::Scalar(s) if s.tag.is_none() || s.tag.as_deref() == Some("str") => {
                let text = s.value.get(skip..).unwrap_or_default().to_owned();
                let target = s.value_span(self.source).and_then(|(a, b)| {
                    let a = a + skip;
                    Some(Target {
                        start: a,
                        end: b,
                        text: self.source.get(a..b)?.to_owned(),
                    })
                });
                let column = s.column
                    + u32::try_from(skip).unwrap_or(0)
                    + u32::from(matches!(
                        s.style,
                        saphyr_parser::ScalarStyle::SingleQuoted
                            | saphyr_parser::ScalarStyle::DoubleQuoted
                    ));
                self.out.push(Found {
                    line: s.line,
                    column,
                    context,
                    expanded: expand(&text),
                    text,
                    target,
                });
            }
            other => self.out.push(Found {
                line: key.line,
                column: key.column,
                context,
                text: String::new(),
                expanded: Err(match other.tag() {
                    Some(t) => {
                        format!("the value is a `!{t}` expression, not known before deployment")
                    }
                    None => "the value is not a string".to_owned(),
                }),
                target: None,
            }),
        }
    }
}

/// Values without interpolation; a leftover `${` or `{{` (an unrendered template) is
/// unresolved.
fn plain(text: &str) -> Result<String, String> {
    if text.contains("${") || text.contains("{{") {
        Err("written as a template expression, not known statically".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

fn compose_expand(text: &str) -> Result<String, String> {
    vars::expand(text, Escape::Double, &|_| None)
        .map_err(|e| format!("{e} (Compose reads it from the environment or .env)"))
}

fn actions_expand(text: &str) -> Result<String, String> {
    if text.contains("${{") {
        Err("a GitHub Actions expression, known only when the workflow runs".to_owned())
    } else {
        Ok(text.to_owned())
    }
}

fn compose(cx: &mut Cx<'_>, doc: &Node) {
    let Some(services) = doc.get("services") else {
        return;
    };
    for (name, svc) in services.entries() {
        if svc.get("build").is_some() {
            continue;
        }
        if let Some((key, image)) = entry(svc, "image") {
            cx.push(
                key,
                image,
                format!("services.{}", name.value),
                0,
                &compose_expand,
            );
        }
    }
}

fn entry<'a>(node: &'a Node, key: &str) -> Option<(&'a Scalar, &'a Node)> {
    node.entries()
        .iter()
        .find(|(k, _)| k.value == key)
        .map(|(k, v)| (k, v))
}

fn k8s_label(doc: &Node) -> String {
    let kind = doc.get("kind").and_then(Node::str).unwrap_or("?");
    match doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::str)
    {
        Some(n) => format!("{kind}/{n}"),
        None => kind.to_owned(),
    }
}

fn kubernetes(cx: &mut Cx<'_>, node: &Node, label: &str) {
    match node {
        Node::Map(entries, _) => {
            // A `List` (kubectl get -o yaml) labels its items by their own kind and name.
            let label = if node.get("apiVersion").is_some() && node.get("kind").is_some() {
                k8s_label(node)
            } else {
                label.to_owned()
            };
            for (k, v) in entries {
                if matches!(
                    k.value.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) && let Node::Seq(items, _) = v
                {
                    for (i, c) in items.iter().enumerate() {
                        if let Some((key, image)) = entry(c, "image") {
                            let name = c
                                .get("name")
                                .and_then(Node::str)
                                .map_or_else(|| i.to_string(), str::to_owned);
                            cx.push(key, image, format!("{label} {}/{name}", k.value), 0, &plain);
                        }
                    }
                } else {
                    kubernetes(cx, v, &label);
                }
            }
        }
        Node::Seq(items, _) => items.iter().for_each(|i| kubernetes(cx, i, label)),
        _ => {}
    }
}

fn containers_ecs(
    cx: &mut Cx<'_>,
    defs: Option<&Node>,
    label: &str,
    image_key: &str,
    name_key: &str,
    expand: &Expand,
) {
    let Some(defs) = defs else { return };
    for (i, c) in defs.items().iter().enumerate() {
        if let Some((key, image)) = entry(c, image_key) {
            let name = c
                .get(name_key)
                .and_then(Node::str)
                .map_or_else(|| i.to_string(), str::to_owned);
            cx.push(key, image, format!("{label}/{name}"), 0, expand);
        }
    }
}

fn cloudformation(cx: &mut Cx<'_>, doc: &Node) {
    let Some(resources) = doc.get("Resources") else {
        return;
    };
    for (id, res) in resources.entries() {
        if res.get("Type").and_then(Node::str) != Some("AWS::ECS::TaskDefinition") {
            continue;
        }
        let defs = res
            .get("Properties")
            .and_then(|p| p.get("ContainerDefinitions"));
        let Some(defs) = defs else { continue };
        for (i, c) in defs.items().iter().enumerate() {
            let Some((key, image)) = entry(c, "Image") else {
                continue;
            };
            let name = c
                .get("Name")
                .and_then(Node::str)
                .map_or_else(|| i.to_string(), str::to_owned);
            let context = format!("{} ContainerDefinitions/{name}", id.value);
            match cfn_literal(image) {
                Some(s) => cx.push(key, &Node::Scalar(s), context, 0, &cfn_sub),
                None => cx.push(key, image, context, 0, &plain),
            }
        }
    }
}

/// The string of `!Sub "..."` / `{"Fn::Sub": "..."}` (checked by [`cfn_sub`]), or a plain
/// scalar, as an untagged scalar; `None` for other intrinsics (`Ref` to a parameter,
/// `Fn::Join`, ...), whose value a deployer decides.
fn cfn_literal(node: &Node) -> Option<Scalar> {
    let s = match node {
        Node::Scalar(s) if s.tag.is_none() || s.tag.as_deref() == Some("Sub") => s,
        Node::Map(entries, None) if entries.len() == 1 && entries[0].0.value == "Fn::Sub" => {
            entries[0].1.as_scalar()?
        }
        _ => return None,
    };
    let mut s = s.clone();
    s.tag = None;
    Some(s)
}

fn cfn_sub(text: &str) -> Result<String, String> {
    if let Some(i) = text.find("${") {
        let var = text[i + 2..].split('}').next().unwrap_or("");
        Err(format!("`${{{var}}}` is substituted at deployment"))
    } else {
        Ok(text.to_owned())
    }
}

fn actions(cx: &mut Cx<'_>, doc: &Node) {
    if let Some(runs) = doc.get("runs")
        && let Some((key, image)) = entry(runs, "image")
        && image.str().is_some_and(|s| s.starts_with("docker://"))
    {
        cx.push(
            key,
            image,
            "runs.image".to_owned(),
            "docker://".len(),
            &actions_expand,
        );
    }
    let Some(jobs) = doc.get("jobs") else { return };
    for (id, job) in jobs.entries() {
        let job_label = format!("jobs.{}", id.value);
        if let Some((key, container)) = entry(job, "container") {
            match container {
                Node::Map(..) => {
                    if let Some((key, image)) = entry(container, "image") {
                        cx.push(
                            key,
                            image,
                            format!("{job_label}.container"),
                            0,
                            &actions_expand,
                        );
                    }
                }
                _ => cx.push(
                    key,
                    container,
                    format!("{job_label}.container"),
                    0,
                    &actions_expand,
                ),
            }
        }
        if let Some(services) = job.get("services") {
            for (name, svc) in services.entries() {
                let context = format!("{job_label}.services.{}", name.value);
                match svc {
                    Node::Map(..) => {
                        if let Some((key, image)) = entry(svc, "image") {
                            cx.push(key, image, context, 0, &actions_expand);
                        }
                    }
                    _ => cx.push(name, svc, context, 0, &actions_expand),
                }
            }
        }
        for (i, step) in job
            .get("steps")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some((key, uses)) = entry(step, "uses")
                && uses.str().is_some_and(|s| s.starts_with("docker://"))
            {
                cx.push(
                    key,
                    uses,
                    format!("{job_label}.steps[{i}].uses"),
                    "docker://".len(),
                    &actions_expand,
                );
            }
        }
    }
}
